"""Which tests grade which task: found by running the solution's tests once and recording the calls.

For assignment N, the candidates are the solution's tests with N's layer marker (``-m optim`` for
assignment 4) that are neither ``live_torch``, ``optional`` nor ``solution_only``, plus every hidden
test.  Each runs against the solution with a profiler that records which of N's task functions it
calls (and whether it runs ``gradcheck`` or reads a torch fixture).  A test that calls no task of N
is not a case of N; a test that skips or fails on the solution itself never counts.

The map depends only on the solution's source and tests, so it is cached under
``$MINITUNE_COURSE_CACHE`` (default ``~/.cache/minitune/course``), keyed by their hash.
"""
import hashlib
import json
import os
import pathlib

from .markers import ASSIGNMENTS
from .runner import collect, run_tests
from .tasks import find_tasks

NOT_GRADED = ("live_torch", "optional", "solution_only")
HIDDEN = pathlib.Path("minitune") / "course" / "hidden"
KINDS = {"hidden": "hidden case", "#gradcheck": "gradcheck", "#fixture": "torch fixture", "visible": "visible test"}


def cache_dir():
    return pathlib.Path(os.environ.get("MINITUNE_COURSE_CACHE") or pathlib.Path.home() / ".cache" / "minitune" / "course")


def solution_hash(root):
    """Hash of everything the map depends on: the package, the tests, the hidden tests."""
    root = pathlib.Path(root)
    h = hashlib.sha256()
    for pattern in ("minitune/**/*.py", "tests/**/*.py"):
        for path in sorted(root.glob(pattern)):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:20]


def is_hidden(nodeid):
    return nodeid.startswith(HIDDEN.as_posix() + "/")


def candidate_tests(root, assignment, hidden_only=False):
    """Node ids of the visible tests of the assignment's layer (graded ones only) and of all hidden tests."""
    root = pathlib.Path(root).resolve()
    layer = ASSIGNMENTS[assignment][0]
    paths = ([] if hidden_only else [root / "tests"]) + ([root / HIDDEN] if (root / HIDDEN).is_dir() else [])
    ids = []
    for item in collect(root, root, paths):
        marks = set(item["markers"])
        if is_hidden(item["nodeid"]) or (layer in marks and not marks & set(NOT_GRADED)):
            ids.append(item["nodeid"])
    return ids


def build_map(root, assignment, timeout=600, hidden_only=False):
    """``{"tasks": [task names], "tests": {nodeid: {"tasks": [...], "kind": ...}}, "not_passing": [...]}``."""
    root = pathlib.Path(root).resolve()
    tasks = [t for t in find_tasks(root) if t.assignment == assignment]
    ids = candidate_tests(root, assignment, hidden_only)
    _, calls = run_tests(root, root, ids, timeout=timeout, trace=[[t.name, t.module, t.function] for t in tasks])
    tests, not_passing = {}, []
    for nodeid in ids:
        entry = calls.get(nodeid, {"hits": [], "outcome": "failed"})
        mine = [t.name for t in tasks if t.name in entry["hits"]]
        if not mine:
            continue
        if entry["outcome"] != "passed":
            not_passing.append(nodeid)
            continue
        kind = "hidden" if is_hidden(nodeid) else next((k for k in ("#gradcheck", "#fixture") if k in entry["hits"]),
                                                        "visible")
        tests[nodeid] = {"tasks": mine, "kind": KINDS[kind], "seconds": entry.get("seconds", 0.0)}
    return {"assignment": assignment, "tasks": [t.name for t in tasks], "tests": tests, "not_passing": not_passing}


def task_map(root, assignment, refresh=False, hidden_only=False):
    """The cached map of ``build_map`` for the solution in ``root`` (``hidden_only``: of the hidden tests only)."""
    path = cache_dir() / f"taskmap-{solution_hash(root)}-a{assignment}{'-hidden' if hidden_only else ''}.json"
    if path.exists() and not refresh:
        return json.loads(path.read_text(encoding="utf-8"))
    found = build_map(root, assignment, hidden_only=hidden_only)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(found, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return found
