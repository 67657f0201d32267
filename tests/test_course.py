"""Course assignments: markers are well-formed, every assignment builds a complete student copy that
leaks no stripped line, strips later assignments too, and whose own tests fail while independent ones pass."""
import os
import subprocess
import sys

import pytest

from minitune.course.build import build, repository_root, solution_regions
from minitune.course.markers import ASSIGNMENTS, MarkerError, find_regions, restore_regions, strip_regions
from minitune.course.tasks import find_tasks, task_marker

pytestmark = pytest.mark.course
ROOT = repository_root()
# For each assignment, a layer whose tests do not touch that assignment's regions nor later ones.
INDEPENDENT = {1: "data", 2: "autograd", 3: "autograd", 4: "autograd", 5: "autograd"}
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".cfg", ".toml", ".txt", ".json", ".sh"}
# The calls every training loop shows (docs, notebooks, tests); assignment 5 is putting them in order.
USAGE = {"loss.backward()", "optimizer.step()", "optimizer.zero_grad()"}
# torchvision's ResNet in torch (fixtures and live-torch tests import it): its BasicBlock is torchvision's public code
TORCHVISION_COPY = "tools/references/_torch_resnet.py"


def test_every_marker_pair_is_well_formed_and_every_assignment_has_regions():
    regions = [r for rs in solution_regions(ROOT).values() for r in rs]
    assert {r.assignment for r in regions} == set(ASSIGNMENTS)
    assert all(r.function and r.what for r in regions)


def test_tasks_are_found_from_the_markers_with_unique_markers():
    tasks = find_tasks(ROOT)
    names = [t.name for t in tasks]
    assert "A4 SGD.step" in names and "A1 Mul.backward" in names and "A3 BasicBlock.forward" in names
    assert len({t.marker for t in tasks}) == len(tasks)
    assert task_marker(4, "SGD.step") == "a4_sgd_step"
    assert task_marker(2, "_conv2d_forward_fast") == "a2_conv2d_forward_fast"


@pytest.mark.parametrize("text, message", [
    ("def f():\n    # BEGIN SOLUTION A1: x\n    return 1\n", "without an END"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION A9: x\n    return 1\n    # END SOLUTION\n", "unknown assignment"),
    ("def f():\n    # BEGIN SOLUTION: x\n    return 1\n    # END SOLUTION\n", "malformed"),
    ("# BEGIN SOLUTION A1: x\nX = 1\n# END SOLUTION\n", "inside a function"),
])
def test_malformed_markers_are_reported(text, message):
    with pytest.raises(MarkerError, match=message):
        find_regions("x.py", text)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_strip_then_restore_gives_the_solution_back(assignment):
    for path, regions in solution_regions(ROOT).items():
        text = path.read_text(encoding="utf-8")
        student = strip_regions(text, regions, assignment)
        if any(r.assignment == assignment for r in regions):
            assert "NotImplementedError" in student and student != text
            compile(student, str(path), "exec")
        assert restore_regions(student, text, assignment) == text


def _region_lines(assignments):
    """The distinctive code lines of the solution regions of ``assignments`` (stripped, ≥ 12 characters)."""
    found = set()
    for path, regions in solution_regions(ROOT).items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for r in regions:
            if r.assignment in assignments:
                for line in lines[r.begin:r.end - 1]:
                    code = line.split("  #")[0].strip()
                    if len(code) >= 12 and not code.startswith("#") and code not in USAGE:
                        found.add(code)
    return found


def _text_files(tree):
    for path in tree.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            yield path


# lines of a region that also occur, identically, in code outside every region (framework, not solution)
def _outside_lines():
    outside = set()
    for path in ROOT.joinpath("minitune").rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        inside = set()
        for r in find_regions(path) if "course" not in path.relative_to(ROOT).parts else []:
            inside.update(range(r.begin - 1, r.end))
        outside.update(line.split("  #")[0].strip() for i, line in enumerate(lines) if i not in inside)
    return outside


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    base = tmp_path_factory.mktemp("copies")
    return {n: (base / f"a{n}", build(base / f"a{n}", n, tests_map=False)) for n in ASSIGNMENTS}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_copy_is_complete_and_leaks_no_stripped_line(copies, assignment):
    tree, manifest = copies[assignment]
    fixtures = sorted(p.name for p in (ROOT / "tests" / "reference").iterdir())
    assert sorted(p.name for p in (tree / "tests" / "reference").iterdir()) == fixtures  # .pth included
    assert any(name.endswith(".pth") for name in fixtures)
    for unwanted in ("__pycache__", ".pytest_cache", "notebook_outputs", ".ipynb_checkpoints", ".git"):
        assert not list(tree.rglob(unwanted)), unwanted
    assert not (tree / "minitune" / "course" / "hidden").exists() and not (tree / "minitune" / "course" / "variants").exists()
    assert not list((tree / "tests").glob("test_course*"))
    assert manifest["stripped"] == [n for n in ASSIGNMENTS if n >= assignment]
    for path in sorted((tree / "notebooks").glob("*.ipynb")):
        assert '"outputs": []' in path.read_text(encoding="utf-8") or '"outputs"' not in path.read_text(encoding="utf-8")
    # later solutions absent, earlier ones present, the assignment's own absent
    stripped = _region_lines(set(manifest["stripped"])) - _outside_lines()
    assert stripped
    leaks = []
    for path in _text_files(tree):
        if path.relative_to(tree).as_posix() == TORCHVISION_COPY:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".py":  # a whole line (code or docstring): `return grad_x` inside `return grad_x, …` is no leak
            text_lines = {line.split("  #")[0].strip() for line in text.splitlines()}
            leaks += [f"{path.relative_to(tree)}: {line}" for line in stripped if line in text_lines]
        else:  # README, ASSIGNMENT.md, notebooks (lines inside JSON strings)
            leaks += [f"{path.relative_to(tree)}: {line}" for line in stripped if line in text]
    assert not leaks, leaks[:40]
    kept = _region_lines({n for n in ASSIGNMENTS if n < assignment})
    copy_source = "\n".join(p.read_text(encoding="utf-8") for p in (tree / "minitune").rglob("*.py"))
    assert all(line in copy_source for line in kept)
    sheet = (tree / "ASSIGNMENT.md").read_text(encoding="utf-8")
    assert "fused multiply-add" in sheet and "stripped too" in sheet if assignment < 5 else True
    for task in manifest["tasks"]:
        lines = (tree / task["file"]).read_text(encoding="utf-8").splitlines()
        assert "raise NotImplementedError" in lines[task["line"] - 1], task
        assert f"-m {task['marker']}" in sheet and f"{task['file']}:{task['line']}" in sheet


def _pytest(tree, marker):
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-m", marker, "-p", "no:cacheprovider"],
                          cwd=tree, env=env, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_built_assignment_fails_its_own_tests_and_passes_independent_ones(copies, assignment):
    tree, manifest = copies[assignment]
    env = dict(os.environ, PYTHONPATH=str(tree))
    subprocess.run([sys.executable, "-c", "import minitune, minitune.cli, minitune.finetune"], cwd=tree, env=env,
                   check=True)
    own = _pytest(tree, ASSIGNMENTS[assignment][0])
    assert own.returncode != 0 and "NotImplementedError" in own.stdout, own.stdout[-2000:]
    other = _pytest(tree, INDEPENDENT[assignment])
    assert other.returncode == 0, other.stdout[-2000:]


def test_build_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("")
    with pytest.raises(FileExistsError):
        build(tmp_path, 1, tests_map=False)


def test_no_solution_in_the_docs_of_the_package():
    """The Function docstring and the README show no task's code (the copy test checks every file too)."""
    lines = _region_lines(set(ASSIGNMENTS)) - _outside_lines()
    for path in (ROOT / "README.md", ROOT / "minitune" / "autograd" / "function.py", ROOT / "minitune" / "course" / "__init__.py"):
        text = path.read_text(encoding="utf-8")
        assert not [line for line in lines if line in text], path
        assert "return g * b, g * a" not in text and "a, b = ctx.saved_tensors" not in text, path  # Mul.backward


def test_runner_reports_outcomes_worst_elements_and_survives_a_hang_and_a_crash(tmp_path):
    from minitune.course.runner import run_tests

    (tmp_path / "test_x.py").write_text(
        "import os, numpy as np\n"
        "def test_ok():\n    assert True\n"
        "def test_values():\n    np.testing.assert_allclose(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]))\n"
        "def test_hang():\n    while True:\n        pass\n"
        "def test_crash():\n    os._exit(3)\n"
        "def test_after():\n    assert 1 + 1 == 2\n")
    ids = [f"test_x.py::{n}" for n in ("test_ok", "test_values", "test_hang", "test_crash", "test_after")]
    results = run_tests(ROOT, tmp_path, ids, timeout=2)
    assert [results[i]["outcome"] for i in ids] == ["passed", "failed", "failed", "failed", "passed"]
    assert results[ids[1]]["worst"] == {"index": [1], "expected": 2.5, "got": 2.0}
    assert results[ids[2]]["message"] == "timed out after 2 s"
    assert results[ids[3]]["message"] == "the test process died during this test"


def test_report_lines_and_gradescope_results():
    from minitune.course.grade import TaskResult
    from minitune.course.report import failure_lines, parameters, results_json, table

    assert parameters("t.py::f[sgd-momentum=0.9-eps=1e-08]") == "sgd, momentum=0.9, eps=1e-08"
    r = TaskResult("A4 SGD.step", 10.0, {
        "tests/t.py::f[momentum=0.9-nesterov=True]": {"outcome": "failed", "message": "AssertionError",
                                                    "worst": {"index": [1, 2], "expected": 0.5, "got": 0.25},
                                                    "kind": "hidden case"},
        "tests/t.py::g": {"outcome": "passed", "message": "", "worst": None, "kind": "gradcheck"}})
    assert r.score == 5.0 and r.count("hidden case") == (0, 1) and r.count("gradcheck") == (1, 1)
    assert failure_lines([r]) == ["A4 SGD.step: hidden case t.py::f[momentum=0.9-nesterov=True] (momentum=0.9, "
                                  "nesterov=True): worst element [1,2] expected 0.5, got 0.25"]
    assert table([r])[1].split() == ["A4", "SGD.step", "1/2", "5/10", "1/1", "0/1"]
    data = results_json(4, [r], [])
    assert data["score"] == 5.0
    assert data["tests"] == [{"name": "A4 SGD.step", "score": 5.0, "max_score": 10.0, "status": "failed",
                              "output": data["tests"][0]["output"]}]
    assert "1/2 cases passed; gradcheck 1/1; hidden cases 0/1" in data["tests"][0]["output"]
