"""``minitune course grade`` round trips: build a student copy, fill it as a student would, grade it.

One copy of assignment 4 is built per module and copied for each case: the untouched copy (0 for its
tasks, full marks for the earlier assignment kept solved), the solution put back (full marks), correct
plain-numpy solutions (full marks), each deliberately wrong variant in ``minitune/course/variants``
(loses points, through the hidden case it names), deleted or skipped tests (same grade), a hanging
task (timed out, the grader finishes), a syntax error and an import error (0 with the reason), the
command line's exit statuses, ``course check`` and the Gradescope autograder bundle.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from minitune.course.build import build, repository_root
from minitune.course.grade import GradeError, grade, grade_copy
from minitune.course.markers import find_regions
from minitune.course.tasks import find_tasks
from minitune.course.variants import put_variant, variants

pytestmark = [pytest.mark.course, pytest.mark.slow]
ROOT = repository_root()
TASKS = {t.name: t for t in find_tasks(ROOT)}
A4 = ["A4 Adam.step", "A4 SGD.step"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    old = os.environ.get("MINITUNE_COURSE_CACHE")
    os.environ["MINITUNE_COURSE_CACHE"] = str(tmp_path_factory.mktemp("course-cache"))
    yield
    if old is None:
        os.environ.pop("MINITUNE_COURSE_CACHE")
    else:
        os.environ["MINITUNE_COURSE_CACHE"] = old


@pytest.fixture(scope="module")
def a4(tmp_path_factory, cache):
    tree = tmp_path_factory.mktemp("a4") / "copy"
    build(tree, 4)
    return tree


def copy_of(a4, tmp_path, name="student"):
    tree = tmp_path / name
    shutil.copytree(a4, tree)
    return tree


def solution_body(task):
    """The solution's region of ``task``, unindented (what a perfect student writes)."""
    path = ROOT / task.file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    region = next(r for r in find_regions(path) if r.function == task.function and r.assignment == task.assignment)
    return "".join(line[len(region.indent):] if line.strip() else line for line in lines[region.begin:region.end - 1])


def solved(a4, tmp_path, name="solved"):
    tree = copy_of(a4, tmp_path, name)
    for name in A4:
        put_variant(tree, TASKS[name], solution_body(TASKS[name]))
    return tree


def scores(tree, **kwargs):
    _, results, notes = grade_copy(tree, **kwargs)
    return {r.name: r for r in results}


def test_untouched_copy_gets_zero_and_results_json_from_the_command_line(a4, tmp_path):
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "minitune", "course", "grade", str(a4), "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert "A4 SGD.step" in done.stdout and "NotImplementedError" in done.stdout
    data = json.loads(results.read_text())
    assert data["score"] == 0
    assert [t["name"] for t in data["tests"]] == A4
    for entry in data["tests"]:
        assert entry["score"] == 0 and entry["max_score"] == 10 and entry["status"] == "failed"
        assert "NotImplementedError" in entry["output"]


def test_untouched_copy_gets_full_marks_for_the_earlier_assignment_kept_solved(a4):
    graded = scores(a4, assignment=1, only=["A1 Add.backward", "A1 Mul.backward", "A1 MatMul.backward"])
    for r in graded.values():
        assert r.total > 0 and r.passed == r.total, (r.name, [c["message"] for c in r.cases.values()][:3])
    assert graded["A1 Mul.backward"].count("gradcheck")[1] > 0 and graded["A1 Mul.backward"].count("hidden case")[1] > 0


def test_solution_put_back_gets_full_marks(a4, tmp_path):
    graded = scores(solved(a4, tmp_path))
    for r in graded.values():
        assert r.total > 10 and r.passed == r.total and r.score == r.points, (r.name, r.cases)
        assert r.count("hidden case")[1] > 0


def test_correct_plain_numpy_solutions_without_fma_get_full_marks(a4, tmp_path):
    tree = copy_of(a4, tmp_path)
    for v in variants("correct"):
        put_variant(tree, TASKS[v.task], v.body)
    graded = scores(tree)
    for r in graded.values():
        failing = {n: c["message"] for n, c in r.cases.items() if c["outcome"] != "passed"}
        assert r.passed == r.total, failing


WRONG = [v for v in variants("wrong")]


@pytest.mark.parametrize("variant", WRONG, ids=[v.name for v in WRONG])
def test_each_wrong_variant_loses_points_through_its_hidden_case(a4, tmp_path, variant):
    tree = copy_of(a4, tmp_path)
    put_variant(tree, TASKS[variant.task], variant.body)
    # assignment 4's variants get the whole grade; the others only the hidden cases (tracing and running every
    # visible kernels/nn/autograd test once per variant would take minutes)
    assignment = TASKS[variant.task].assignment
    result = scores(tree, assignment=assignment, only=[variant.task], hidden_only=assignment != 4)[variant.task]
    assert result.score < result.points
    file, _, case = variant.caught_by.partition("::")
    hidden = {n: c for n, c in result.cases.items() if n.endswith(f"{file}::{case}")}
    assert hidden, f"no case {variant.caught_by} among the task's cases"
    assert all(c["outcome"] == "failed" and c["kind"] == "hidden case" for c in hidden.values())


def test_deleted_or_skipped_tests_do_not_change_the_grade(a4, tmp_path):
    tree = solved(a4, tmp_path)
    for path in (tree / "tests").glob("test_*.py"):
        path.unlink()
    skip_all = "import pytest\n\ndef pytest_collection_modifyitems(items):\n    for i in items:\n        i.add_marker(pytest.mark.skip)\n"
    (tree / "conftest.py").write_text(skip_all)
    (tree / "tests" / "conftest.py").write_text(skip_all)
    (tree / "pytest.ini").write_text("[pytest]\naddopts = -m nothing\n")
    graded = scores(tree)
    assert all(r.passed == r.total and r.total > 10 for r in graded.values())


def test_a_hanging_task_times_out_and_the_grader_finishes(a4, tmp_path):
    tree = solved(a4, tmp_path)
    put_variant(tree, TASKS["A4 SGD.step"], "while True:\n    pass\n")
    graded = scores(tree, timeout=2)
    sgd, adam = graded["A4 SGD.step"], graded["A4 Adam.step"]
    assert sgd.passed == 0 and any("timed out after 2 s" in c["message"] for c in sgd.cases.values())
    assert adam.passed == adam.total


def test_a_syntax_error_gives_that_files_tasks_zero_with_the_reason(a4, tmp_path):
    tree = solved(a4, tmp_path)
    path = tree / "minitune" / "optim" / "sgd.py"
    lines = path.read_text().splitlines(keepends=True)
    region = next(r for r in find_regions(path) if r.function == "SGD.step")
    lines.insert(region.begin, " " * 8 + "for group in self.param_groups\n")  # missing colon
    path.write_text("".join(lines))
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        grade(tree, out=f, results=tmp_path / "r.json")
    report = out.read_text()
    assert f"A4 SGD.step: 0 points: minitune/optim/sgd.py:{region.begin + 1}: SyntaxError" in report
    data = json.loads((tmp_path / "r.json").read_text())
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["A4 SGD.step"]["score"] == 0 and by_name["A4 Adam.step"]["score"] == 10
    assert data["score"] == 10


def test_an_import_error_gives_that_files_tasks_zero_with_the_reason(a4, tmp_path):
    tree = solved(a4, tmp_path)
    path = tree / "minitune" / "optim" / "adam.py"
    path.write_text("import no_such_module_here\n" + path.read_text())
    graded = scores(tree)
    assert graded["A4 Adam.step"].score == 0
    assert graded["A4 Adam.step"].problem == ("minitune/optim/adam.py:1: ModuleNotFoundError: "
                                              "No module named 'no_such_module_here'")
    assert graded["A4 SGD.step"].score == 10


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing", "no such folder"),
    (lambda tmp: tmp, "not a student copy"),
])
def test_grade_that_cannot_run_exits_2_with_one_line(tmp_path, make, message):
    done = subprocess.run([sys.executable, "-m", "minitune", "course", "grade", str(make(tmp_path))], cwd=ROOT,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr and done.stderr.startswith("minitune: error:")
    with pytest.raises(GradeError):
        grade_copy(make(tmp_path))


def test_student_side_check_and_per_task_markers(a4):
    env = dict(os.environ, PYTHONPATH=str(a4))
    done = subprocess.run([sys.executable, "-m", "minitune", "course", "check"], cwd=a4, capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "the instructor's grade adds hidden cases" in done.stdout and "A4 SGD.step" in done.stdout
    assert "hidden" in done.stdout.splitlines()[2]
    mapping = json.loads((a4 / "tests" / "course_tasks.json").read_text())
    n_sgd = sum("a4_sgd_step" in e["markers"] for e in mapping["tests"].values())
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "a4_sgd_step", "-p", "no:cacheprovider"], cwd=a4,
                         capture_output=True, text=True, env=env)
    assert f"{n_sgd} failed" in run.stdout.splitlines()[-1]
    assert not any(n.startswith("minitune/course/hidden") for n in mapping["tests"])


def test_gradescope_autograder_bundle_grades_a_submission(a4, tmp_path):
    bundle = tmp_path / "a4.zip"
    done = subprocess.run([sys.executable, "-m", "minitune", "course", "build", "--assignment", "4", "--autograder",
                           str(bundle)], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    home = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        assert "setup.sh" in names and "run_autograder" in names
        assert any(n.startswith("solution/minitune/course/hidden/") for n in names)
        assert any(n.startswith("solution/tests/reference/") and n.endswith(".pth") for n in names)
        z.extractall(home)
    os.chmod(home / "run_autograder", 0o755)
    submission = tmp_path / "submission"  # a bare upload of the two task files
    submission.mkdir()
    tree = solved(a4, tmp_path)
    for rel in ("minitune/optim/sgd.py", "minitune/optim/adam.py"):
        shutil.copy(tree / rel, submission)
    results = tmp_path / "results" / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MINITUNE_COURSE_CACHE")}
    env.update(AUTOGRADER_SUBMISSION=str(submission), AUTOGRADER_RESULTS=str(results), PATH=f"{pathlib.Path(sys.executable).parent}:{env['PATH']}")
    run = subprocess.run([str(home / "run_autograder")], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(results.read_text())
    assert data["score"] == 20 and {t["name"]: t["status"] for t in data["tests"]} == {n: "passed" for n in A4}
