"""F.conv2d: gradcheck over the case table (tests/conv_cases.py), torch fixtures in float32/float64
(Winograd on and off), bad arguments."""
import numpy as np
import pytest
from conftest import load_reference
from conv_cases import CASES, names, seed

import minitune
import minitune.nn.functional as F
from minitune.kernels import conv2d as kernels_conv2d

pytestmark = pytest.mark.kernels


def _t(a, requires_grad=True):
    return minitune.tensor(np.asarray(a), requires_grad=requires_grad)


@pytest.mark.parametrize("name", names("gradcheck"))
def test_gradcheck(name):
    N, C, H, W, O, k, s, p, d, groups, bias, uses = CASES[name]
    rng = np.random.default_rng(seed(name))
    x = _t(rng.standard_normal((N, C, H, W)))
    w = _t(rng.standard_normal((O, C // groups) + k))
    b = _t(rng.standard_normal(O)) if bias else None
    inputs = (x, w, b) if bias else (x, w)
    minitune.gradcheck(lambda *t: F.conv2d(t[0], t[1], t[2] if bias else None, s, p, d, groups), inputs,
                       fast_mode="fast_mode" in uses)


def test_gradcheck_winograd(monkeypatch):
    """The Winograd path (forced on a small 3×3 stride-1 case) passes gradcheck too."""
    monkeypatch.setattr(kernels_conv2d, "WINOGRAD_MIN_TILES", 0)
    monkeypatch.setattr(kernels_conv2d, "WINOGRAD_MIN_TILES_PER_SAMPLE", 0)
    monkeypatch.setattr(kernels_conv2d, "WINOGRAD_MIN_SAMPLES", 1)
    rng = np.random.default_rng(seed("pad2_3x3"))
    x, w, b = _t(rng.standard_normal((2, 3, 5, 6))), _t(rng.standard_normal((4, 3, 3, 3))), _t(rng.standard_normal(4))
    minitune.gradcheck(lambda *t: F.conv2d(t[0], t[1], t[2], 1, 2), (x, w, b))


def test_winograd_weight_transform_kept_from_forward_to_backward(monkeypatch):
    """A recorded Winograd convolution keeps its weight transform U for the backward, which uses it
    once: the gradients equal the kernel's with U computed afresh, and a second backward
    (retain_graph) computes U again and gives the same gradients."""
    monkeypatch.setattr(kernels_conv2d, "WINOGRAD_MIN_TILES", 0)
    monkeypatch.setattr(kernels_conv2d, "WINOGRAD_MIN_TILES_PER_SAMPLE", 0)
    rng = np.random.default_rng(seed("basic3x3"))
    x, w = _t(rng.standard_normal((2, 3, 6, 6))), _t(rng.standard_normal((4, 3, 3, 3)))
    g = rng.standard_normal((2, 4, 6, 6))
    y = F.conv2d(x, w, padding=1)
    assert y.grad_fn.ctx.U is not None
    want = kernels_conv2d.conv2d_backward(g, x.data, w.data, (1, 1), (1, 1), (1, 1), 1, need=(True, True, False))
    y.backward(minitune.tensor(g), retain_graph=True)
    assert y.grad_fn.ctx.U is None
    first = (x.grad.data.copy(), w.grad.data.copy())
    x.grad = w.grad = None
    y.backward(minitune.tensor(g))
    for a, b, r in zip(first, (x.grad.data, w.grad.data), want):
        np.testing.assert_array_equal(a, r)
        np.testing.assert_array_equal(b, r)
    with minitune.no_grad():
        assert F.conv2d(x, w, padding=1).grad_fn is None  # nothing recorded, nothing kept


TOL = {"f64": dict(rtol=1e-10, atol=1e-10), "f32": dict(rtol=1e-4, atol=1e-4)}


@pytest.mark.parametrize("tag", ["f64", "f32"])
@pytest.mark.parametrize("name", names("fixture"))
def test_matches_torch(name, tag, conv_path):
    _, _, _, _, _, _, s, p, d, groups, _, _ = CASES[name]
    ref = load_reference(f"kernels_conv2d_{name}_{tag}")
    x, w = _t(ref["x"]), _t(ref["w"])
    b = _t(ref["b"]) if "b" in ref else None
    y = F.conv2d(x, w, b, s, p, d, groups)
    assert y.dtype == ref["y"].dtype
    np.testing.assert_allclose(y.data, ref["y"], **TOL[tag], err_msg="output vs torch")
    y.backward(minitune.tensor(ref["g"]))
    np.testing.assert_allclose(x.grad.data, ref["gx"], **TOL[tag], err_msg="grad_input vs torch")
    np.testing.assert_allclose(w.grad.data, ref["gw"], **TOL[tag], err_msg="grad_weight vs torch")
    if b is not None:
        np.testing.assert_allclose(b.grad.data, ref["gb"], **TOL[tag], err_msg="grad_bias vs torch")


def test_unbatched_input_and_no_grad():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    y3 = F.conv2d(_t(x, False), _t(w, False), padding=1)
    y4 = F.conv2d(_t(x[None], False), _t(w, False), padding=1)
    assert y3.shape == (3, 5, 5)
    np.testing.assert_array_equal(y3.data, y4.data[0])
    with minitune.no_grad():
        assert F.conv2d(_t(x[None]), _t(w)).grad_fn is None


f32 = np.float32
# (input shape, weight shape, kwargs, error, message)
BAD = [
    ((1, 3, 5, 5), (4, 2, 3, 3), {}, ValueError, "expects 2 input channels"),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"groups": 3}, ValueError, "groups=3 must divide"),
    ((1, 3, 2, 2), (4, 3, 3, 3), {}, ValueError, "larger than the padded input"),
    ((3, 5, 5, 1, 1), (4, 3, 3, 3), {}, ValueError, "expected 3-D .* or 4-D"),
    ((1, 3, 5, 5), (4, 3, 3), {}, ValueError, "4-D weight"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"stride": 0}, ValueError, "stride and dilation must be positive"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"bias": (3,)}, ValueError, r"bias must have shape \(4,\)"),
]


@pytest.mark.parametrize("xs,ws,kwargs,err,message", BAD)
def test_bad_arguments(xs, ws, kwargs, err, message):
    kwargs = dict(kwargs)
    if "bias" in kwargs:
        kwargs["bias"] = minitune.zeros(*kwargs["bias"])
    with pytest.raises(err, match=message):
        F.conv2d(minitune.zeros(*xs), minitune.zeros(*ws), **kwargs)


def test_dtype_mix_raises():
    with pytest.raises(TypeError, match="weight has dtype float64 but input has dtype float32"):
        F.conv2d(minitune.zeros(1, 3, 5, 5), minitune.zeros(4, 3, 3, 3, dtype=minitune.float64))
    with pytest.raises(TypeError, match="float32 or float64"):
        F.conv2d(minitune.zeros(1, 3, 5, 5, dtype=minitune.int64), minitune.zeros(4, 3, 3, 3))
