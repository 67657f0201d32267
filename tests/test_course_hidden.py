"""The hidden cases themselves: they pass on the solution, their references agree with torch, and each
wrong variant in ``minitune/course/variants`` names a hidden case that exists and a task that exists
(``test_course_grade.py`` grades every variant and checks that this case fails on it)."""
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from conftest import load_reference

from minitune.course.build import repository_root
from minitune.course.tasks import find_tasks
from minitune.course.variants import variants

pytestmark = pytest.mark.course
ROOT = repository_root()
HIDDEN = ROOT / "minitune" / "course" / "hidden"


def hidden_module(name):
    spec = importlib.util.spec_from_file_location(f"hidden_{name}", HIDDEN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hidden_ids():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HIDDEN)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    listing = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider",
                              str(HIDDEN)], cwd=ROOT, capture_output=True, text=True)
    return [line.strip() for line in listing.stdout.splitlines() if "::" in line]


def test_every_hidden_case_passes_on_the_solution(hidden_ids):
    assert len(hidden_ids) > 100


def test_every_variant_names_an_existing_task_and_hidden_case(hidden_ids):
    names = {t.name for t in find_tasks(ROOT)}
    wrong = variants("wrong")
    assert len(wrong) >= 15 and len(variants("correct")) == 2
    for v in wrong:
        assert v.task in names, v.name
        assert v.mistake and any(i.endswith(v.caught_by) for i in hidden_ids), (v.name, v.caught_by)


COLUMNS = {"sgd": ("momentum", "dampening", "nesterov", "weight_decay", "maximize"),
           "adam": ("weight_decay", "amsgrad", "maximize", "eps", "beta1", "beta2")}


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_hidden_optimizer_references_reproduce_torch(kind):
    """``reference_sgd``/``reference_adam`` against every torch trajectory of the fixtures (float64)."""
    hidden = hidden_module("test_hidden_optim")
    ref = load_reference(f"optim_{kind}_float64")
    for i, row in enumerate(ref["config"]):
        for n in ("w", "b"):  # c has steps without a gradient, which the references do not model
            grads = list(ref[f"grads_{n}"])
            if kind == "sgd":
                m, d, nest, wd, mx = row
                traj = hidden.reference_sgd(ref[f"{n}0"], grads, 0.1, m, d, wd, bool(nest), bool(mx))
            else:
                wd, ams, mx, eps, b1, b2 = row
                traj = hidden.reference_adam(ref[f"{n}0"], grads, 0.05, (b1, b2), eps, wd, bool(ams), bool(mx),
                                             decoupled=kind == "adamw")
            np.testing.assert_allclose(traj, ref[f"traj_{n}"][i], rtol=1e-9, atol=1e-12, err_msg=f"{kind} {row} {n}")
