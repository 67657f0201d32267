"""``minitune course grade``: run a student copy's tests and print a score per assignment."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from .markers import ASSIGNMENTS


def run_layer(root, layer):
    """Run ``pytest -m layer`` in ``root``; returns (passed, failed, skipped, gradcheck_passed, gradcheck_total)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / "report.xml"
        env = dict(os.environ, PYTHONPATH=str(root))
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", layer, "-p", "no:cacheprovider",
                        f"--junitxml={report}"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        if not report.exists():
            return 0, 0, 0, 0, 0
        passed = failed = skipped = gc_passed = gc_total = 0
        for case in ET.parse(report).getroot().iter("testcase"):
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error"):
                    outcome = "failed"
                elif child.tag == "skipped":
                    outcome = "skipped"
            passed += outcome == "passed"
            failed += outcome == "failed"
            skipped += outcome == "skipped"
            if "gradcheck" in case.get("name", ""):
                gc_total += outcome != "skipped"
                gc_passed += outcome == "passed"
        return passed, failed, skipped, gc_passed, gc_total


def grade(root=".", out=sys.stdout):
    """Grade the assignments of a student copy (up to its manifest's assignment); returns True if all pass."""
    root = pathlib.Path(root).resolve()
    if not (root / "tests").is_dir():
        raise FileNotFoundError(f"{root} has no tests/ folder; give the folder `minitune course build` wrote")
    manifest = root / "course_manifest.json"
    last = json.loads(manifest.read_text())["assignment"] if manifest.exists() else max(ASSIGNMENTS)
    print(f"{'assignment':<11}{'layer':<10}{'passed':>10}{'failed':>8}{'skipped':>9}{'gradcheck':>11}", file=out)
    ok = True
    for n in sorted(a for a in ASSIGNMENTS if a <= last):
        layer = ASSIGNMENTS[n][0]
        passed, failed, skipped, gp, gt = run_layer(root, layer)
        total = passed + failed
        ok &= failed == 0 and total > 0
        gc = f"{gp}/{gt}" if gt else "-"
        print(f"{n:<11}{layer:<10}{f'{passed}/{total}':>10}{failed:>8}{skipped:>9}{gc:>11}", file=out)
    return ok
