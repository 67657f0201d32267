"""``minitune course build --assignment N --autograder ZIP``: a Gradescope autograder bundle.

The zip holds ``setup.sh`` (installs numpy, numba, Pillow and pytest), ``run_autograder`` and
``solution/``: the solution's package, its pristine tests and fixtures and the hidden tests, plus the
task map of assignment N computed here (so the autograder does not trace the tests again).
``run_autograder`` grades ``/autograder/submission`` (a whole student copy, or just the task files,
found by name) into ``/autograder/results/results.json``; the environment variables
``AUTOGRADER_SUBMISSION``, ``AUTOGRADER_RESULTS`` and ``AUTOGRADER_TIMEOUT`` replace those defaults.
"""
import os
import pathlib
import stat
import zipfile

from .build import IGNORED_NAMES, IGNORED_SUFFIXES, repository_root
from .taskmap import cache_dir, solution_hash, task_map

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once when the image is built.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3 python3-pip >/dev/null || true
python3 -m pip install --quiet 'numpy>=1.23' 'numba>=0.57' 'pillow>=9.0' 'pytest>=7'
"""
RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SUBMISSION="${{AUTOGRADER_SUBMISSION:-/autograder/submission}}"
RESULTS="${{AUTOGRADER_RESULTS:-/autograder/results/results.json}}"
mkdir -p "$(dirname "$RESULTS")"
export MINITUNE_COURSE_CACHE="$HERE/solution/.course_cache" PYTHONPATH="$HERE/solution"
cd "$HERE/solution"
python3 -m minitune course grade "$SUBMISSION" --assignment {assignment} --results "$RESULTS" \\
    --timeout "${{AUTOGRADER_TIMEOUT:-60}}"
status=$?
if [ $status -ne 0 ] || [ ! -s "$RESULTS" ]; then
  printf '{{"score": 0, "output": "the autograder could not grade this submission (exit %s); see its output"}}\\n' \\
    "$status" > "$RESULTS"
fi
"""


def _files(root):
    for folder, dirs, names in os.walk(root):
        rel = pathlib.Path(folder).relative_to(root)
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_NAMES and not d.endswith(IGNORED_SUFFIXES)
                         and not (rel.as_posix() == "weights"))
        for name in sorted(names):
            if name.endswith(IGNORED_SUFFIXES) or (rel.parts[:1] == ("weights",) and name.endswith((".npz", ".pth"))):
                continue
            yield rel / name


def write_autograder(zip_path, assignment, root=None):
    """Write the bundle; returns its size in bytes."""
    root = pathlib.Path(root).resolve() if root else repository_root()
    task_map(root, assignment)  # computed (or found) in the cache, then shipped
    cached = cache_dir() / f"taskmap-{solution_hash(root)}-a{assignment}.json"
    zip_path = pathlib.Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN.format(assignment=assignment))):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            z.writestr(info, text)
        for rel in _files(root):
            if rel.parts[:1] in (("minitune",), ("tests",), ("tools",)) or rel.as_posix() in ("setup.cfg", "pyproject.toml",
                                                                                           "README.md"):
                z.write(root / rel, f"solution/{rel.as_posix()}")
        z.write(cached, f"solution/.course_cache/{cached.name}")
    return zip_path.stat().st_size
