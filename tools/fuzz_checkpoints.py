"""Fuzz the checkpoint reader with more seeds than the test suite: ``python tools/fuzz_checkpoints.py --scale 10``.

The cases are those of ``tests/checkpoint_mutants.py`` (the suite runs ``--scale 1``); ``--scale N``
makes N times as many mutants of each kind (new names, so new seeds; the crafted cases run once).
Prints the outcome counts and every failure; exits 1 if there is one, if a hostile payload ran, or
if a pickle changed the allowlisted functions.
"""
import argparse
import collections
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from checkpoint_fuzz_worker import failures, run_cases  # noqa: E402
from checkpoint_mutants import all_cases  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10,
                        help="mutants per kind and fixture, x the suite's (default 10)")
    parser.add_argument("--batch", type=int, default=200, help="cases per worker subprocess (default 200)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        marker = pathlib.Path(tmp) / "pwned"
        results, allowlist_ok = run_cases(list(all_cases(marker, args.scale)), pathlib.Path(tmp) / "cases", args.batch)
        ran = marker.exists()
    kinds = collections.Counter(outcome for outcome, _, _ in results.values())
    bad = failures(results)
    print(f"{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    print(f"hostile payload ran: {ran}; allowlist unchanged: {allowlist_ok}; failures: {len(bad)}")
    for line in bad:
        print("  " + line)
    return 1 if bad or ran or not allowlist_ok else 0


if __name__ == "__main__":
    sys.exit(main())
