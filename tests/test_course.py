"""Course assignments: markers are well-formed, each assignment builds a student tree whose own
tests fail with NotImplementedError while independent tests pass, and the solution restores exactly."""
import os
import pathlib
import subprocess
import sys

import pytest

from minitune.course.build import build, repository_root, solution_regions
from minitune.course.markers import ASSIGNMENTS, MarkerError, find_regions, restore_regions, strip_regions

pytestmark = pytest.mark.course
ROOT = repository_root()
# For each assignment, a layer whose tests do not touch that assignment's regions.
INDEPENDENT = {1: "data", 2: "autograd", 3: "autograd", 4: "autograd", 5: "autograd"}


def test_every_marker_pair_is_well_formed_and_every_assignment_has_regions():
    regions = [r for rs in solution_regions(ROOT).values() for r in rs]
    assert {r.assignment for r in regions} == set(ASSIGNMENTS)
    assert all(r.function and r.what for r in regions)


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


def _pytest(tree, marker):
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-m", marker, "-p", "no:cacheprovider"],
                          cwd=tree, env=env, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_built_assignment(tmp_path, assignment):
    tree = tmp_path / f"assignment{assignment}"
    manifest = build(tree, assignment)
    assert manifest["tasks"] and (tree / "ASSIGNMENT.md").is_file() and (tree / "tests" / "reference").is_dir()
    env = dict(os.environ, PYTHONPATH=str(tree))
    subprocess.run([sys.executable, "-c", "import minitune, minitune.cli, minitune.finetune"], cwd=tree, env=env,
                   check=True)
    own = _pytest(tree, ASSIGNMENTS[assignment][0])
    assert own.returncode != 0 and "NotImplementedError" in own.stdout, own.stdout[-2000:]
    other = _pytest(tree, INDEPENDENT[assignment])
    assert other.returncode == 0, other.stdout[-2000:]


def test_grade_prints_a_score_table(tmp_path):
    tree = tmp_path / "a1"
    build(tree, 1)
    out = subprocess.run([sys.executable, "-m", "minitune", "course", "grade", str(tree)], cwd=tree,
                         env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True, text=True)
    assert out.returncode == 1
    header, row = out.stdout.splitlines()[:2]
    assert "gradcheck" in header and row.split()[:2] == ["1", "autograd"]
    passed, total = map(int, row.split()[2].split("/"))
    assert 0 < passed < total


def test_build_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("")
    with pytest.raises(FileExistsError):
        build(tmp_path, 1)
