"""Every notebook runs top to bottom without error (no Jupyter needed), stored without outputs."""
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook import run_notebook  # noqa: E402

pytestmark = pytest.mark.notebooks
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_exist_in_reading_order():
    names = [p.name for p in NOTEBOOKS]
    assert names[:1] == ["01_autograd.ipynb"]
    assert names == sorted(names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.chdir(path.parent)
    monkeypatch.setenv("MINITUNE_NOTEBOOK_OUT", str(tmp_path))
    run_notebook(path)
