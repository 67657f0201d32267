"""Every autograd op, three ways: values and gradients against torch's fixtures (float64 and
float32), and gradcheck against finite differences with a random upstream gradient."""
import numpy as np
import pytest

import minitune
from autograd_cases import CASES
from conftest import load_reference

pytestmark = pytest.mark.autograd

TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-5, atol=1e-6)}


def _run(name, dtype):
    ref = load_reference(f"autograd_{dtype}")
    fn = next(c[3] for c in CASES if c[0] == name)
    n = len([k for k in ref if k.startswith(name + "__in")])
    xs = [minitune.tensor(ref[f"{name}__in{i}"], requires_grad=True) for i in range(n)]
    out = fn(minitune, *xs)
    return ref, xs, out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_matches_torch(name, dtype):
    ref, xs, out = _run(name, dtype)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.data, ref[f"{name}__out"], **TOL[dtype], err_msg="forward differs from torch")
    out.backward(ref[f"{name}__gout"])
    for i, x in enumerate(xs):
        got = np.zeros(x.shape) if x.grad is None else x.grad.data
        np.testing.assert_allclose(got, ref[f"{name}__grad{i}"], **TOL[dtype],
                                   err_msg=f"gradient of input {i} differs from torch")


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_gradcheck(name):
    ref = load_reference("autograd_float64")
    fn = next(c[3] for c in CASES if c[0] == name)
    n = len([k for k in ref if k.startswith(name + "__in")])
    xs = [minitune.tensor(ref[f"{name}__in{i}"], requires_grad=True) for i in range(n)]
    assert minitune.gradcheck(lambda *a: fn(minitune, *a), xs)
