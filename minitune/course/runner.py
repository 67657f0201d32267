"""Run a list of tests in a fresh pytest process against a chosen copy of the package, under a per-test timeout.

The process imports ``minitune`` from ``package_root`` (put first on ``sys.path``) and collects the test
files from wherever they lie; pytest's settings come from a minimal ini written here, so no
``conftest.py``, ``pytest.ini`` or ``setup.cfg`` of a student's folder is ever read.

Per-test timeout without signals: the plugin logs when each test starts and ends; a test still
running ``timeout`` seconds after it started (an infinite loop, a deadlock, a numba kernel that never
returns) gets its process killed, is recorded as failed ("timed out after S s"), and a new process
runs the tests that had not run yet.  A process that dies inside a test (``os._exit``, a segfault)
is handled the same way.  So the grader always finishes.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

BOOT = ("import sys; sys.path.insert(0, sys.argv.pop(1)); sys.dont_write_bytecode = True; import pytest; "
        "sys.exit(pytest.main(sys.argv[1:]))")
INI = "[pytest]\naddopts =\nfilterwarnings =\n    ignore\n"


def _files_of(nodeids, rootdir):
    files = []
    for nodeid in nodeids:
        f = nodeid.split("::", 1)[0]
        if f not in files:
            files.append(f)
    return [str(pathlib.Path(rootdir) / f) for f in files]


def _read_log(path):
    records = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut short by a kill
                pass
    return records


def run_tests(package_root, rootdir, nodeids, timeout=60.0, trace=None, env=None, poll=0.1, max_timeouts=2,
              limits=None):
    """Run ``nodeids`` (relative to ``rootdir``) importing minitune from ``package_root``.

    Returns ``{nodeid: {"outcome": "passed"|"failed"|"skipped", "message": str, "worst": dict|None}}``
    for every requested test (a test that never reported counts as failed with the reason).
    ``trace``: a list of [task name, module, qualname] to record which tasks each test calls; then
    returns ``(results, calls)`` with ``calls[nodeid] = {"hits": [...], "outcome": ...}``.
    ``limits``: a longer time limit for some node ids (the grader gives a test 5× its time on the solution).
    After ``max_timeouts`` tests timed out, the rest are not started and fail with that reason (a
    function that hangs hangs every case: 76 cases × 60 s would keep a grader busy for over an hour).
    """
    package_root, rootdir = pathlib.Path(package_root).resolve(), pathlib.Path(rootdir).resolve()
    results, calls = {}, {}
    remaining = list(nodeids)
    with tempfile.TemporaryDirectory(prefix="minitune-course-run-") as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "pytest.ini").write_text(INI, encoding="utf-8")
        attempt, timeouts = 0, 0
        while remaining:
            attempt += 1
            log, select, trace_out = tmp / f"log{attempt}.jsonl", tmp / f"select{attempt}.json", tmp / f"trace{attempt}.json"
            select.write_text(json.dumps(remaining), encoding="utf-8")
            run_env = dict(os.environ if env is None else env)
            for key in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "MINITUNE_COURSE_TRACE", "MINITUNE_COURSE_TASKS"):
                run_env.pop(key, None)
            run_env.update(MINITUNE_COURSE_LOG=str(log), MINITUNE_COURSE_SELECT=str(select),
                           PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
            if trace is not None:
                (tmp / "tasks.json").write_text(json.dumps(trace), encoding="utf-8")
                run_env.update(MINITUNE_COURSE_TRACE=str(trace_out), MINITUNE_COURSE_TASKS=str(tmp / "tasks.json"))
            cmd = [sys.executable, "-c", BOOT, str(package_root), "-q", "-p", "no:cacheprovider", "-p",
                   "minitune.course.pytest_plugin", "-c", str(tmp / "pytest.ini"), "--rootdir", str(rootdir),
                   "--import-mode=prepend", *_files_of(remaining, rootdir)]
            hung = _supervise(cmd, run_env, tmp, log, lambda n: max(timeout, (limits or {}).get(n, 0)), poll)
            records = _read_log(log)
            started, finished, collect_errors = [], set(), []
            for r in records:
                if r["event"] == "start":
                    started.append(r["nodeid"])
                elif r["event"] == "end":
                    finished.add(r["nodeid"])
                elif r["event"] == "collect_error":
                    collect_errors.append(r)
                elif r["event"] == "report":
                    entry = results.setdefault(r["nodeid"], {"outcome": "passed", "message": "", "worst": None})
                    if r["outcome"] != "passed" and entry["outcome"] == "passed":
                        entry.update(outcome=r["outcome"], message=r["message"], worst=r.get("worst"))
            if trace is not None and trace_out.exists():
                calls.update(json.loads(trace_out.read_text(encoding="utf-8")))
                begun = {r["nodeid"]: r["time"] for r in records if r["event"] == "start"}
                for r in records:
                    if r["event"] == "end" and r["nodeid"] in calls and r["nodeid"] in begun:
                        calls[r["nodeid"]]["seconds"] = round(r["time"] - begun[r["nodeid"]], 3)
            unfinished = [n for n in started if n not in finished]
            for n in unfinished:
                limit = max(timeout, (limits or {}).get(n, 0))
                reason = f"timed out after {limit:g} s" if hung else "the test process died during this test"
                results[n] = {"outcome": "failed", "message": reason, "worst": None}
            timeouts += bool(hung and unfinished)
            remaining = [n for n in remaining if n not in results]
            if remaining and timeouts >= max_timeouts:
                for n in remaining:
                    results[n] = {"outcome": "failed", "message": f"not run: {timeouts} tests of this run timed out",
                                  "worst": None}
                remaining = []
            if remaining and not unfinished:  # nothing ran: collection failed, or the ids do not exist
                reason = collect_errors[0]["message"] if collect_errors else "not collected"
                for n in remaining:
                    results[n] = {"outcome": "failed", "message": f"could not run: {reason}", "worst": None}
                remaining = []
    ordered = {n: results[n] for n in nodeids}
    return (ordered, calls) if trace is not None else ordered


def _supervise(cmd, env, cwd, log, limit, poll):
    """Run ``cmd``; kill it when a test runs longer than ``limit(nodeid)``.  Returns True if it was killed."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    current, started_at, seen = None, None, 0
    try:
        while proc.poll() is None:
            time.sleep(poll)
            if log.exists():
                with open(log, encoding="utf-8") as f:
                    f.seek(seen)
                    chunk = f.read()
                complete = chunk[:chunk.rfind("\n") + 1]
                seen += len(complete.encode("utf-8"))
                for line in complete.splitlines():
                    r = json.loads(line)
                    if r["event"] == "start":
                        current, started_at = r["nodeid"], time.monotonic()
                    elif r["event"] == "end":
                        current = None
            if current is not None and time.monotonic() - started_at > limit(current):
                _kill(proc)
                return True
    finally:
        if proc.poll() is None:
            _kill(proc)
    return False


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def collect(package_root, rootdir, paths, timeout=600):
    """``[{"nodeid", "markers"}]`` of every test in ``paths`` (files or folders), collected without running."""
    package_root, rootdir = pathlib.Path(package_root).resolve(), pathlib.Path(rootdir).resolve()
    with tempfile.TemporaryDirectory(prefix="minitune-course-collect-") as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "pytest.ini").write_text(INI, encoding="utf-8")
        env = dict(os.environ, MINITUNE_COURSE_COLLECT=str(tmp / "items.json"), PYTHONDONTWRITEBYTECODE="1")
        for key in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "MINITUNE_COURSE_SELECT", "MINITUNE_COURSE_LOG"):
            env.pop(key, None)
        cmd = [sys.executable, "-c", BOOT, str(package_root), "-q", "--collect-only", "-p", "no:cacheprovider", "-p",
               "minitune.course.pytest_plugin", "-c", str(tmp / "pytest.ini"), "--rootdir", str(rootdir),
               "--import-mode=prepend", *map(str, paths)]
        done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
        if not (tmp / "items.json").exists():
            raise RuntimeError(f"could not collect the tests: {done.stdout[-1000:]}{done.stderr[-1000:]}")
        return json.loads((tmp / "items.json").read_text(encoding="utf-8"))
