"""F.linear and F.relu: gradcheck, torch fixture, bad arguments."""
import numpy as np
import pytest
from conftest import load_reference

import minitune
import minitune.nn.functional as F

pytestmark = pytest.mark.kernels


def _t(a, requires_grad=True):
    return minitune.tensor(np.asarray(a), requires_grad=requires_grad)


@pytest.mark.parametrize("x_shape,out,bias", [((3, 4), 2, True), ((2, 3, 4), 5, False), ((4,), 3, True)])
def test_gradcheck_linear(x_shape, out, bias):
    rng = np.random.default_rng(0)
    x, w = _t(rng.standard_normal(x_shape)), _t(rng.standard_normal((out, x_shape[-1])))
    b = _t(rng.standard_normal(out)) if bias else None
    minitune.gradcheck(lambda *t: F.linear(t[0], t[1], t[2] if bias else None), (x, w, b) if bias else (x, w))


@pytest.mark.parametrize("tag,tol", [("f64", 1e-12), ("f32", 1e-5)])
def test_linear_matches_torch(tag, tol):
    ref = load_reference(f"kernels_linear_{tag}")
    x, w, b = _t(ref["x"]), _t(ref["w"]), _t(ref["b"])
    y = F.linear(x, w, b)
    np.testing.assert_allclose(y.data, ref["y"], rtol=tol, atol=tol)
    y.backward(minitune.tensor(ref["g"]))
    for name, got in (("gx", x.grad), ("gw", w.grad), ("gb", b.grad)):
        np.testing.assert_allclose(got.data, ref[name], rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("x,w,b,err,message", [
    ((2, 3), (4, 5), None, ValueError, "does not match weight"),
    ((2, 3), (4, 3, 1), None, ValueError, "weight must be 2-D"),
    ((2, 3), (4, 3), (5,), ValueError, r"bias must have shape \(4,\)"),
])
def test_linear_bad_arguments(x, w, b, err, message):
    with pytest.raises(err, match=message):
        F.linear(minitune.zeros(*x), minitune.zeros(*w), None if b is None else minitune.zeros(*b))


def test_linear_dtype_mix():
    with pytest.raises(TypeError, match="weight has dtype float64"):
        F.linear(minitune.zeros(2, 3), minitune.zeros(4, 3, dtype=minitune.float64))


def test_relu_gradcheck_and_values():
    x = _t(np.array([[-1.5, 0.25], [2.0, -0.1]]))
    minitune.gradcheck(F.relu, x)
    np.testing.assert_array_equal(F.relu(x).data, [[0.0, 0.25], [2.0, 0.0]])


def test_relu_inplace():
    x = minitune.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x
    np.testing.assert_array_equal(x.data, [0.0, 2.0])
    h = minitune.tensor([-1.0, 2.0], requires_grad=True) * 1  # recorded: h's history moves on (test_autograd_in_place.py)
    assert F.relu(h, inplace=True) is h and h.grad_fn.name() == "ReLUBackward0"
