"""The notebooks: valid nbformat 4.5 stored without outputs, exercises that point to the course assignment
of the same topic without giving away its solution, and every notebook runs top to bottom (no Jupyter needed)."""
import copy
import json
import pathlib
import re
import sys

import pytest

from minitune.course.build import solution_regions

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook import schema_problems, run_notebook  # noqa: E402

pytestmark = pytest.mark.notebooks
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
# The course assignment(s) each notebook's exercises point to (README, "For instructors").
ASSIGNMENT_OF = {"01_autograd": [1], "02_convolution_and_batchnorm": [2], "03_loss_and_optimizers": [3, 4],
                 "04_resnet18_and_weights": [3], "05_finetuning": [5]}


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_notebooks_exist_in_reading_order():
    names = [p.stem for p in NOTEBOOKS]
    assert names == sorted(ASSIGNMENT_OF)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_without_outputs(path):
    for cell in _load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_follows_the_nbformat_4_5_schema(path):
    assert schema_problems(_load(path)) == []


def test_schema_check_catches_a_missing_or_duplicate_id():
    nb = _load(NOTEBOOKS[0])
    del nb["cells"][0]["id"]
    nb["cells"][2]["id"] = nb["cells"][1]["id"]
    problems = " ".join(schema_problems(nb))
    assert "cell 0: id None" in problems and "duplicate id" in problems
    nb["nbformat_minor"] = 4
    assert "expected 4.5" in " ".join(schema_problems(nb))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nbformat_validates_the_notebook_without_repairing_it(path):
    nbformat = pytest.importorskip("nbformat")
    nb = _load(path)
    before = copy.deepcopy(nb)
    normalize = getattr(nbformat.validator, "normalize", None)  # nbformat >= 5.10: what a repair would change
    if normalize is not None:
        changes, _ = normalize(copy.deepcopy(nb))
        assert changes == 0
    nbformat.validate(nb)
    assert nb == before


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercises_close_the_notebook_and_name_their_assignment(path):
    cells = _load(path)["cells"]
    heads = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Exercises" in "".join(c["source"])]
    assert len(heads) == 1 and heads[0] >= len(cells) - 3, "one Exercises section, at the end"
    text = "".join(cells[heads[0]]["source"])
    for n in ASSIGNMENT_OF[path.stem]:
        assert f"--assignment {n}" in text and f"{n}" in text.split("\n")[0]
    assert re.search(r"^1\. ", text, re.M), "numbered exercises"


def _solution_lines():
    """Every line a student copy strips (stripped of indentation, at least 10 characters: ``return y`` is not a
    solution, ``return g * b, g * a`` is)."""
    lines = set()
    for path, regions in solution_regions(ROOT).items():
        text = path.read_text(encoding="utf-8").splitlines()
        for r in regions:
            lines |= {ln.strip() for ln in text[r.begin:r.end - 1] if len(ln.strip()) >= 10}
    return lines


def test_no_notebook_line_gives_away_a_solution():
    solution = _solution_lines()
    assert len(solution) > 100
    leaks = [(p.name, ln.strip()) for p in NOTEBOOKS for c in _load(p)["cells"]
             for ln in "".join(c["source"]).splitlines() if ln.strip() in solution]
    assert leaks == []


def test_notebook_outputs_are_git_ignored():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "/notebooks/notebook_outputs/" in ignored


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("MINITUNE_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("MINITUNE_NOTEBOOK_QUICK", "1")  # notebook 05 trains less and says so
    run_notebook(path)
