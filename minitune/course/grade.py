"""``minitune course grade``: grade a student copy with the solution's pristine tests and the hidden tests.

How one assignment N is graded, run from the solution's checkout:

1. The task map (``taskmap.py``) says which of the solution's tests, and which hidden tests, exercise
   each task of N.  The student's ``tests/``, ``conftest.py`` and pytest settings are never read.
2. Each file of the student's that holds a task is checked: it must compile and import (one line,
   ``file:line: error``, and 0 for that file's tasks otherwise).
3. Each task is graded in isolation: a copy of the solution's package in which only that task's
   region comes from the student (the rest of the student's file is kept, its other regions are the
   solution's).  So one broken function costs its own points, not its neighbours' (``gradcheck``
   uses ``Mul``; a broken ``Mul.backward`` must not sink ``Exp.backward``), and nothing outside the
   task files (say an edited ``gradcheck``) can change a grade.
4. Every test runs under a per-test time limit (``runner.py``): ``--timeout`` (60 s), or 5× the test's
   time on the solution if that is longer; a hang is a failed case.

A task's score is (cases passed / cases) × its points.
"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from .markers import ASSIGNMENTS, MarkerError, splice_regions
from .report import print_report, results_json
from .runner import run_tests
from .taskmap import task_map
from .tasks import find_tasks

IMPORT_CHECK = r"""
import importlib, json, sys, traceback
sys.path.insert(0, sys.argv[1])
files = [f for _, f in json.loads(sys.argv[2])]
out = {}
for module, file in json.loads(sys.argv[2]):
    try:
        importlib.import_module(module)
    except BaseException as exc:
        # the culprit: the last frame in one of the task files (importing sgd.py runs optim/__init__, which imports adam.py)
        frames = [(f.filename.replace("\\", "/"), f.lineno) for f in traceback.extract_tb(exc.__traceback__)]
        if isinstance(exc, SyntaxError) and exc.filename:
            frames.append((exc.filename.replace("\\", "/"), exc.lineno))
        mine = [(next(t for t in files if name.endswith(t)), line) for name, line in frames
                if any(name.endswith(t) for t in files)]
        culprit, line = mine[-1] if mine else (file, None)
        message = str(exc).splitlines()[0] if str(exc) else ""
        out.setdefault(culprit, [line, f"{type(exc).__name__}: {message}".rstrip(": ")])
print(json.dumps(out))
"""


# A test's time limit is the larger of --timeout and this many times its duration on the solution (traced once),
# so a slow real-data test is not failed for being slow on a busy machine.
SLOWDOWN = 5.0


class GradeError(Exception):
    """Grading could not run (no such folder, not a student copy, no solution tests): one line, exit 2."""


@dataclass
class TaskResult:
    name: str
    points: float
    cases: dict = field(default_factory=dict)  # nodeid -> {"outcome", "message", "worst", "kind"}
    problem: str = ""  # why the whole task got 0 (syntax/import error), if it did

    @property
    def passed(self):
        return sum(c["outcome"] == "passed" for c in self.cases.values())

    @property
    def total(self):
        return len(self.cases)

    @property
    def score(self):
        return self.points * self.passed / self.total if self.total else 0.0

    def count(self, kind):
        chosen = [c for c in self.cases.values() if c["kind"] == kind]
        return sum(c["outcome"] == "passed" for c in chosen), len(chosen)


def solution_root():
    """The solution checkout this package runs from; it must hold the pristine tests."""
    root = pathlib.Path(__file__).resolve().parents[2]
    if not (root / "tests").is_dir() or not (root / "setup.cfg").is_file():
        raise GradeError(f"minitune course grade needs the solution's source checkout (with tests/); {root} is not one")
    return root


def is_student_copy(root):
    return (pathlib.Path(root) / "course_manifest.json").is_file()


def student_assignment(student, assignment):
    manifest = student / "course_manifest.json"
    if assignment is None:
        if not manifest.is_file():
            raise GradeError(f"{student} is not a student copy (no course_manifest.json); give --assignment N")
        try:
            assignment = int(json.loads(manifest.read_text(encoding="utf-8"))["assignment"])
        except (ValueError, KeyError, TypeError) as exc:
            raise GradeError(f"{manifest} is damaged ({exc}); give --assignment N") from None
    if assignment not in ASSIGNMENTS:
        raise GradeError(f"unknown assignment {assignment}; expected one of {sorted(ASSIGNMENTS)}")
    return assignment


def _copy_package(src_root, dst_root):
    """The solution's ``minitune`` package (numba caches included, so unchanged kernels need no compiling)."""
    shutil.copytree(src_root / "minitune", dst_root / "minitune", copy_function=shutil.copy2,
                    ignore=shutil.ignore_patterns("hidden", "variants", "*.pyc"))


def _locate(student, rel):
    """The student's version of ``rel``: at its place in a copy, or found by its name in a bare upload."""
    path = student / rel
    if path.is_file():
        return path
    if (student / "minitune").is_dir():
        return None
    found = sorted(p for p in student.rglob(pathlib.PurePosixPath(rel).name) if p.is_file())
    return found[0] if found else None


def _student_files(student, files):
    """For each task file: the student's text if it compiles, else one line saying why (``problems``)."""
    texts, problems = {}, {}
    for rel in files:
        path = _locate(student, rel)
        if path is None:
            problems[rel] = f"{rel}: file missing from the submission"
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            compile(text, rel, "exec")
        except SyntaxError as exc:
            problems[rel] = f"{rel}:{exc.lineno}: SyntaxError: {exc.msg}"
            continue
        texts[rel] = text
    return texts, problems


def _import_problems(overlay, files):
    """Import each task module in the all-student overlay; ``{file: "file:line: error"}`` for those that fail."""
    modules = [[f[:-3].replace("/", "."), f] for f in files]
    try:
        done = subprocess.run([sys.executable, "-c", IMPORT_CHECK, str(overlay), json.dumps(modules)], cwd=overlay,
                              capture_output=True, text=True, timeout=120)
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {f: f"{f}: importing it did not finish within 120 s" for f in files}
    except (json.JSONDecodeError, IndexError):
        return {f: f"{f}: importing it crashed the interpreter" for f in files}
    return {file: f"{file}:{line}: {error}" if line else f"{file}: {error}" for file, (line, error) in found.items()}


def _check_inputs(student, assignment, root, only):
    """The resolved folders, the assignment and its tasks; ``GradeError`` when grading cannot run."""
    student = pathlib.Path(student)
    if not student.is_dir():
        raise GradeError(f"no such folder: {student}")
    root = pathlib.Path(root) if root else solution_root()
    student, root = student.resolve(), root.resolve()
    if student == root:
        raise GradeError("that is the solution itself; give the folder of a student copy")
    assignment = student_assignment(student, assignment)
    tasks = [t for t in find_tasks(root) if t.assignment == assignment and (only is None or t.name in only)]
    if not (student / "minitune").is_dir() and not any(_locate(student, t.file) for t in tasks):
        raise GradeError(f"{student} is not a student copy: no minitune/ package and none of the task files "
                         f"({', '.join(sorted({pathlib.PurePosixPath(t.file).name for t in tasks}))})")
    return student, root, assignment, tasks


def _empty_results(tasks, mapping):
    """One ``TaskResult`` per task with every case of the map, not run yet."""
    results = {t.name: TaskResult(t.name, t.points) for t in tasks}
    for nodeid, entry in mapping["tests"].items():
        for name in entry["tasks"]:
            if name in results:
                results[name].cases[nodeid] = {"outcome": "failed", "message": "not run", "worst": None,
                                               "kind": entry["kind"], "seconds": entry.get("seconds", 0.0)}
    return results


def _splice_all(texts, root, assignment, everything, notes):
    """Write each task file into the ``everything`` package with the other assignments' regions from the solution."""
    spliced = {}
    for rel, text in texts.items():
        solution_text = (root / rel).read_text(encoding="utf-8")
        try:
            spliced[rel] = splice_regions(text, solution_text, lambda r: r.assignment == assignment)
        except MarkerError as exc:
            notes.append(f"{rel}: {exc}; graded as submitted, without isolating its tasks")
            spliced[rel] = text
        (everything / rel).write_text(spliced[rel], encoding="utf-8")
    return spliced


def _grade_task(task, result, text, fallback, root, overlay, timeout):
    """Run the task's cases on the solution's package with only this task's regions from the student."""
    _copy_package(root, overlay)
    try:
        mine = splice_regions(text, (root / task.file).read_text(encoding="utf-8"),
                              lambda r: r.assignment == task.assignment and r.function == task.function)
    except MarkerError:
        mine = fallback
    (overlay / task.file).write_text(mine, encoding="utf-8")
    limits = {n: SLOWDOWN * c.get("seconds", 0.0) for n, c in result.cases.items()}
    for nodeid, outcome in run_tests(overlay, root, list(result.cases), timeout=timeout, limits=limits).items():
        if outcome["outcome"] == "skipped":  # it ran on the solution, so skipping here is a failure
            outcome = dict(outcome, outcome="failed", message=f"skipped: {outcome['message']}")
        result.cases[nodeid].update(outcome)
    shutil.rmtree(overlay, ignore_errors=True)


def grade_copy(student, assignment=None, timeout=60.0, root=None, only=None, hidden_only=False):
    """Grade the student copy in ``student``; returns ``(assignment, [TaskResult], notes)``.

    ``only``: grade just these task names; ``hidden_only``: only the hidden cases (the course tests use
    both to keep round trips short)."""
    student, root, assignment, tasks = _check_inputs(student, assignment, root, only)
    mapping = task_map(root, assignment, hidden_only=hidden_only)
    notes = []
    if mapping["not_passing"]:
        notes.append(f"{len(mapping['not_passing'])} tests do not pass on the solution itself and are not graded")
    results = _empty_results(tasks, mapping)
    texts, problems = _student_files(student, sorted({t.file for t in tasks}))
    with tempfile.TemporaryDirectory(prefix="minitune-grade-") as tmp:
        tmp = pathlib.Path(tmp)
        _copy_package(root, tmp / "all")
        spliced = _splice_all(texts, root, assignment, tmp / "all", notes)
        problems.update(_import_problems(tmp / "all", [f for f in spliced if f not in problems]))
        for task in tasks:
            result = results[task.name]
            if task.file in problems:  # does not compile or import: 0 with the reason
                result.problem = problems[task.file]
                for case in result.cases.values():
                    case.update(outcome="failed", message=result.problem)
            elif result.cases:
                _grade_task(task, result, texts[task.file], spliced[task.file], root, tmp / task.marker, timeout)
    return assignment, [results[t.name] for t in tasks], notes


def grade(student, assignment=None, results=None, timeout=60.0, out=sys.stdout, root=None, only=None):
    """Grade, print the table and the failing cases, write Gradescope's results.json if asked.

    Returns the total score.  Raises ``GradeError`` when grading cannot run."""
    assignment, task_results, notes = grade_copy(student, assignment, timeout, root, only)
    print_report(assignment, task_results, notes, out, hidden=True)
    if results:
        path = pathlib.Path(results)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results_json(assignment, task_results, notes), indent=2) + "\n", encoding="utf-8")
    return sum(r.score for r in task_results)
