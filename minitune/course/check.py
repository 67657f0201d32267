"""``minitune course check``: the student's own score table, from the visible tests of a student copy.

It runs the copy's tests of each task (listed in ``tests/course_tasks.json`` by ``course build``) in a
fresh pytest process with the same per-test timeout as the grader, and prints the same table.  The
instructor's grade runs the original tests and adds hidden cases, so it can be lower.
"""
import json
import pathlib
import sys

from .grade import GradeError, TaskResult
from .report import print_report
from .runner import run_tests


def check(student=".", timeout=60.0, out=sys.stdout):
    """Run the visible tests of a student copy and print the table; returns the total score."""
    student = pathlib.Path(student).resolve()
    path = student / "tests" / "course_tasks.json"
    if not path.is_file():
        raise GradeError(f"{student} is not a student copy (no tests/course_tasks.json); run this in the copy "
                         "that `minitune course build` wrote")
    mapping = json.loads(path.read_text(encoding="utf-8"))
    results = {t["name"]: TaskResult(t["name"], float(t["points"])) for t in mapping["tasks"]}
    for nodeid, entry in mapping["tests"].items():
        for name in entry["tasks"]:
            if name in results:
                results[name].cases[nodeid] = {"kind": entry["kind"]}
    outcomes = run_tests(student, student, list(mapping["tests"]), timeout=timeout)
    for result in results.values():
        for nodeid, case in result.cases.items():
            case.update(outcomes[nodeid])
    print_report(int(mapping["assignment"]), list(results.values()), [], out, hidden=False)
    return sum(r.score for r in results.values())
