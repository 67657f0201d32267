"""pytest plugin of the course tool (``-p minitune.course.pytest_plugin``); each part is switched on separately.

* Per-task markers (always): in a student copy, ``tests/course_tasks.json`` (written by ``course build``)
  lists the tests of each task; their items get the task's marker, so ``pytest -m a4_sgd_step`` runs one task.
* ``MINITUNE_COURSE_SELECT=FILE``: run only the node ids listed in FILE (one JSON list).
* ``MINITUNE_COURSE_LOG=FILE``: append one JSON line when a test starts and one when it ends
  (outcome, first line of the failure, the worst element of a failed array comparison).
  The grader reads it to score and to find a test that hung or crashed the process.
* ``MINITUNE_COURSE_TRACE=FILE``: record which task functions each test calls (``sys.setprofile``),
  and whether it ran ``gradcheck`` or read a torch fixture; written to FILE at the end (JSON).
  Tasks come from ``MINITUNE_COURSE_TASKS`` (JSON list of [name, module, qualname]).
"""
import json
import os
import sys
import threading
import time

import pytest

_LOG = None
_TRACE = None


def _env_json(name):
    path = os.environ.get(name)
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---- per-task markers ---------------------------------------------------------------------------
def _task_map(config):
    path = os.path.join(str(config.rootpath), "tests", "course_tasks.json")
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pytest_configure(config):
    global _LOG
    config._course_tasks = _task_map(config)
    for marker, about in sorted(config._course_tasks.get("markers", {}).items()):
        config.addinivalue_line("markers", f"{marker}: {about}")
    if os.environ.get("MINITUNE_COURSE_LOG"):
        _LOG = open(os.environ["MINITUNE_COURSE_LOG"], "a", encoding="utf-8")
        _patch_numpy_testing()
    if os.environ.get("MINITUNE_COURSE_TRACE"):
        _Tracer.start()


def pytest_collection_modifyitems(session, config, items):
    if os.environ.get("MINITUNE_COURSE_COLLECT"):
        with open(os.environ["MINITUNE_COURSE_COLLECT"], "w", encoding="utf-8") as f:
            json.dump([{"nodeid": i.nodeid, "markers": sorted({m.name for m in i.iter_markers()})} for i in items], f)
    tests = config._course_tasks.get("tests", {})
    for item in items:
        for marker in tests.get(item.nodeid, {}).get("markers", []):
            item.add_marker(getattr(pytest.mark, marker))
    selected = _env_json("MINITUNE_COURSE_SELECT")
    if selected is not None:
        wanted = set(selected)
        keep = [item for item in items if item.nodeid in wanted]
        deselected = [item for item in items if item.nodeid not in wanted]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = keep


# ---- progress log ---------------------------------------------------------------------------------
def _write(record):
    if _LOG is not None:
        _LOG.write(json.dumps(record) + "\n")
        _LOG.flush()


def pytest_runtest_logstart(nodeid, location):
    _Worst.last = None
    if _TRACE is not None:
        _TRACE.begin(nodeid)
    _write({"event": "start", "nodeid": nodeid, "time": time.time()})


def pytest_runtest_logreport(report):
    if _TRACE is not None:
        _TRACE.outcome(report)
    if _LOG is None:
        return
    if report.when == "call" or report.outcome != "passed":
        if report.outcome == "passed":
            message = ""
        elif report.outcome == "skipped":
            message = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else "skipped"
        else:
            message = _first_line(report)
        _write({"event": "report", "nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                "message": message, "worst": getattr(report, "course_worst", None)})


def pytest_runtest_logfinish(nodeid, location):
    _write({"event": "end", "nodeid": nodeid, "time": time.time()})


def pytest_collectreport(report):
    if report.failed:
        _write({"event": "collect_error", "nodeid": report.nodeid, "message": _first_line(report)})


def pytest_runtest_teardown(item, nextitem):
    if _TRACE is not None:
        _TRACE.end(item)


def _first_line(report):
    """The exception's last line (``AssertionError: …``), or the last line of the report."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "failed"
    first = lines[0]
    if first.endswith(":") and len(lines) > 1:  # numpy's "AssertionError:" then "Not equal to tolerance …", err_msg
        first = f"{first} {'; '.join(lines[1:3])}"
    return first[:500]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Copy the worst element of the comparison that failed the test onto its report."""
    outcome = yield
    report = outcome.get_result()
    report.course_worst = _Worst.last if call.when == "call" and call.excinfo is not None else None


# ---- the worst element of a failed comparison ----------------------------------------------------------
class _Worst:
    last = None


def _worst_element(actual, desired, rtol, atol):
    import numpy as np

    try:
        a = np.asarray(actual, dtype=np.float64)
        d = np.asarray(desired, dtype=np.float64)
        a, d = np.broadcast_arrays(a, d)
    except (TypeError, ValueError):
        return None
    if a.size == 0:
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        excess = np.abs(a - d) - (atol + rtol * np.abs(d))
    excess = np.where(np.isnan(a) != np.isnan(d), np.inf, np.nan_to_num(excess, nan=-np.inf, posinf=np.inf))
    index = np.unravel_index(int(np.argmax(excess)), a.shape)
    return {"index": [int(i) for i in index], "expected": float(d[index]), "got": float(a[index])}


def _patch_numpy_testing():
    import numpy.testing as npt

    def wrap(original, tolerances):
        def checked(actual, desired, *args, **kwargs):
            try:
                return original(actual, desired, *args, **kwargs)
            except AssertionError:
                _Worst.last = _worst_element(actual, desired, *tolerances(args, kwargs))
                raise

        checked.__wrapped__ = original
        checked.__name__ = original.__name__
        checked.__doc__ = original.__doc__
        return checked

    def allclose_tol(args, kwargs):
        rtol = args[0] if len(args) > 0 else kwargs.get("rtol", 1e-7)
        atol = args[1] if len(args) > 1 else kwargs.get("atol", 0)
        return rtol, atol

    def almost_tol(args, kwargs):
        decimal = args[0] if args else kwargs.get("decimal", 6)
        return 0.0, 1.5 * 10.0 ** (-decimal)

    if not hasattr(npt.assert_allclose, "__wrapped__"):
        npt.assert_allclose = wrap(npt.assert_allclose, allclose_tol)
        npt.assert_array_equal = wrap(npt.assert_array_equal, lambda a, k: (0.0, 0.0))
        npt.assert_equal = wrap(npt.assert_equal, lambda a, k: (0.0, 0.0))
        npt.assert_array_almost_equal = wrap(npt.assert_array_almost_equal, almost_tol)


# ---- tracing which tasks each test runs -----------------------------------------------------------------
class _Tracer:
    def __init__(self, path, tasks):
        self.path, self.tasks = path, tasks
        self.codes = None
        self.current, self.hits, self.result, self.outcomes = None, set(), {}, {}

    @classmethod
    def start(cls):
        global _TRACE
        _TRACE = cls(os.environ["MINITUNE_COURSE_TRACE"], _env_json("MINITUNE_COURSE_TASKS") or [])

    def _resolve(self):
        """Code objects of the task functions, of gradcheck and of the fixture loader; numba kernels wrapped."""
        import importlib

        codes = {}
        for name, module, qualname in self.tasks:
            try:
                owner = importlib.import_module(module)
            except Exception:  # noqa: BLE001 - a module that does not import has no calls to trace
                continue
            *path, last = qualname.split(".")
            for part in path:
                owner = getattr(owner, part)
            raw = owner.__dict__.get(last) if hasattr(owner, "__dict__") else None
            fn = getattr(raw, "__func__", raw)
            if fn is not None and hasattr(fn, "py_func") and not path:  # a numba dispatcher called from Python
                setattr(owner, last, self._wrap_dispatcher(fn, name))
                continue
            fn = getattr(fn, "__wrapped__", fn)
            code = getattr(fn, "__code__", None)
            if code is not None:
                codes[code] = name
        gc = sys.modules.get("minitune.autograd.gradcheck")
        if gc is not None and hasattr(gc, "gradcheck"):
            codes[gc.gradcheck.__code__] = "#gradcheck"
        cf = sys.modules.get("conftest")
        if cf is not None and hasattr(cf, "load_reference"):
            codes[cf.load_reference.__code__] = "#fixture"
        self.codes = codes

    def _wrap_dispatcher(self, dispatcher, name):
        def called(*args, **kwargs):
            self.hits.add(name)
            return dispatcher(*args, **kwargs)

        return called

    def _profile(self, frame, event, arg):
        if event == "call":
            name = self.codes.get(frame.f_code)
            if name is not None:
                self.hits.add(name)

    def begin(self, nodeid):
        if self.codes is None:
            self._resolve()
        self.current, self.hits = nodeid, set()
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)

    def outcome(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.nodeid] = report.outcome

    def end(self, item):
        sys.setprofile(None)
        threading.setprofile(None)
        if self.current is not None:
            self.result[self.current] = {"hits": sorted(self.hits)}
        self.current = None

    def save(self):
        for nodeid, entry in self.result.items():
            entry["outcome"] = self.outcomes.get(nodeid, "failed")
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(self.result, f)


def pytest_unconfigure(config):
    if _TRACE is not None:
        _TRACE.save()
    if _LOG is not None:
        _LOG.close()
