"""F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d and the pooling layers:
gradcheck and torch fixtures on every case of ``tests/pooling_cases.py``, torch's tie / NaN / bin rules
(fixtures too), bad arguments."""
import numpy as np
import pytest
from conftest import load_reference
from pooling_cases import KINDS, RULE_CASES, seed

import minitune
import minitune.nn as nn
import minitune.nn.functional as F

pytestmark = pytest.mark.kernels

CASES = [(kind, name) for kind, cases in KINDS.items() for name in cases]
TOL = {"f64": dict(rtol=1e-12, atol=1e-12), "f32": dict(rtol=1e-5, atol=1e-6)}


def _t(a, requires_grad=True):
    return minitune.tensor(np.asarray(a), requires_grad=requires_grad)


def _kwargs(kind, name):
    args = KINDS[kind][name][1]
    return args if isinstance(args, dict) else dict(output_size=args)


def _pool(kind, x, kwargs):
    """minitune's ``kind`` on x: (y, indices or None)."""
    if kind in ("max_pool2d", "adaptive_max_pool2d"):
        return getattr(F, kind)(x, **kwargs, return_indices=True)
    return getattr(F, kind)(x, **kwargs), None


def _distinct(shape, name):
    """Random values without ties, so that max pooling is differentiable everywhere."""
    rng = np.random.default_rng(seed(name))
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + rng.standard_normal(shape) * 1e-3


@pytest.mark.parametrize("kind,name", CASES)
def test_gradcheck(kind, name):
    shape = KINDS[kind][name][0]
    kwargs = _kwargs(kind, name)
    minitune.gradcheck(lambda x: _pool(kind, x, kwargs)[0], _t(_distinct(shape, name)))


@pytest.mark.parametrize("tag", ["f64", "f32"])
@pytest.mark.parametrize("kind,name", CASES)
def test_matches_torch(kind, name, tag):
    ref = load_reference(f"kernels_{kind}_{name}_{tag}")
    x = _t(ref["x"])
    y, idx = _pool(kind, x, _kwargs(kind, name))
    if idx is not None:
        np.testing.assert_array_equal(idx.data, ref["indices"], err_msg="indices vs torch")
    assert y.dtype == ref["y"].dtype
    np.testing.assert_allclose(y.data, ref["y"], **TOL[tag], err_msg="output vs torch")
    y.backward(minitune.tensor(ref["g"]))
    np.testing.assert_allclose(x.grad.data, ref["gx"], **TOL[tag], err_msg="grad_input vs torch")


@pytest.mark.parametrize("name", RULE_CASES)
def test_torch_rules(name):
    """Ties (first maximum), NaN (wins; the last one), −∞ padding, where the adaptive bins fall: exactly torch's."""
    kind, _, kwargs = RULE_CASES[name]
    ref = load_reference(f"kernels_pool_rule_{name}")
    x = _t(ref["x"])
    y, idx = _pool(kind, x, kwargs)
    _assert_same_values(y.data, ref["y"])
    if idx is not None:
        np.testing.assert_array_equal(idx.data, ref["indices"])
    y.backward(minitune.tensor(ref["g"]))
    np.testing.assert_allclose(x.grad.data, ref["gx"], rtol=1e-15, atol=0)


def _assert_same_values(y, expected):
    """Equal values, NaN where torch has NaN, and the sign of every zero (which of +0 and −0 was the maximum)."""
    np.testing.assert_array_equal(y, expected)
    zero = expected == 0
    np.testing.assert_array_equal(np.signbit(y[zero]), np.signbit(expected[zero]), err_msg="the sign of a zero")


@pytest.mark.parametrize("name", [n for n, case in RULE_CASES.items() if case[0] == "max_pool2d"])
def test_torch_rules_without_grad(name, monkeypatch):
    """Inference (no_grad, no indices) takes the values-only path (max_pool_values.py, no arg-max): torch's
    output under no_grad, NaN and the sign of tied zeros included — and on an input that needs no grad."""
    import minitune.nn.functional.pooling as FP
    _, _, kwargs = RULE_CASES[name]
    ref = load_reference(f"kernels_pool_rule_{name}")

    def with_indices(*args):
        raise AssertionError("the arg-max kernel ran where no one reads the arg-max")

    monkeypatch.setattr(FP, "max_pool2d_forward", with_indices)
    with minitune.no_grad():
        y = F.max_pool2d(_t(ref["x"]), **kwargs)
    assert y.grad_fn is None and not y.requires_grad
    _assert_same_values(y.data, ref["y_no_grad"])
    _assert_same_values(F.max_pool2d(_t(ref["x"], requires_grad=False), **kwargs).data, ref["y_no_grad"])


def test_max_pool_keeps_the_arg_max_where_it_is_read():
    """With grad, or with return_indices, max_pool2d still runs the kernel that makes the arg-max."""
    x = _distinct((2, 3, 7, 7), "arg-max kept")
    y = F.max_pool2d(_t(x), 3, 2, 1)
    assert y.grad_fn is not None
    with minitune.no_grad():
        y2, idx = F.max_pool2d(_t(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(y.data, y2.data)
    assert idx.shape == y.shape


@pytest.mark.parametrize("name", [n for n in RULE_CASES if n.startswith("adaptive_bins")])
def test_adaptive_bins_are_torchs(name):
    """``adaptive_bins`` (the kernels' formula) puts row c in bin i exactly where torch's output says so."""
    from minitune.kernels.pooling import adaptive_bins
    y = load_reference(f"kernels_pool_rule_{name}")["y"][0, :, :, 0]  # (rows, bins)
    rows, bins = y.shape
    member = np.zeros((rows, bins), dtype=bool)
    for i, (start, end) in enumerate(adaptive_bins(rows, bins)):
        member[start:end, i] = True
    np.testing.assert_array_equal(member, y > 0)


def test_unbatched_input():
    x = _distinct((2, 6, 6), "unbatched")
    y3 = F.max_pool2d(_t(x, False), 2)
    y4 = F.max_pool2d(_t(x[None], False), 2)
    np.testing.assert_array_equal(y3.data, y4.data[0])


def test_layers_pass_every_argument():
    x = _t(_distinct((1, 2, 9, 9), "layers"))
    y, idx = nn.MaxPool2d(3, 2, 1, dilation=2, return_indices=True, ceil_mode=True)(x)
    y_f, idx_f = F.max_pool2d(x, 3, 2, 1, dilation=2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(y.data, y_f.data)
    np.testing.assert_array_equal(idx.data, idx_f.data)
    avg = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=4)(x)
    np.testing.assert_array_equal(avg.data, F.avg_pool2d(x, 3, 2, 1, True, False, 4).data)
    y, idx = nn.AdaptiveMaxPool2d((2, 3), return_indices=True)(x)
    np.testing.assert_array_equal(idx.data, F.adaptive_max_pool2d(x, (2, 3), True)[1].data)


def test_read_only_and_broadcast_inputs():
    """An ``expand``-ed (stride-0) or read-only input goes through every pooling op (numba needs a copy)."""
    base = _distinct((1, 2, 1, 6), "broadcast")
    expanded = _t(base).expand(3, 2, 6, 6)
    read_only = np.broadcast_to(base, (3, 2, 6, 6)).copy()
    read_only.flags.writeable = False
    for x in (expanded, minitune.from_numpy(read_only)):
        for kind, kwargs in (("max_pool2d", dict(kernel_size=2)), ("avg_pool2d", dict(kernel_size=3, padding=1)),
                             ("adaptive_avg_pool2d", dict(output_size=(2, 4))),
                             ("adaptive_max_pool2d", dict(output_size=2))):
            y, _ = _pool(kind, x, kwargs)
            y_plain, _ = _pool(kind, _t(np.ascontiguousarray(x.data), False), kwargs)
            np.testing.assert_array_equal(y.data, y_plain.data)


# (call, error, message)
BAD = [
    (lambda x: F.max_pool2d(x, 2, padding=2), ValueError, "at most half"),
    (lambda x: F.avg_pool2d(x, 9), ValueError, "larger than the padded input"),
    (lambda x: F.max_pool2d(x, 3, dilation=0), ValueError, "dilation must be positive"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), ValueError, "non-zero int"),
    (lambda x: F.max_pool2d(x.reshape(2, 2, 2, 2, 2, 2), 2), ValueError, "expected 3-D .* or 4-D"),
    (lambda x: F.max_pool2d(x.to(minitune.int64), 2), TypeError, "float32 or float64"),
    (lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), ValueError, "int or a pair"),
    (lambda x: F.adaptive_max_pool2d(x, 0), ValueError, "positive"),
    (lambda x: F.max_pool2d(x.data, 2), TypeError, "must be a Tensor"),
]


@pytest.mark.parametrize("call,err,message", BAD)
def test_bad_arguments(call, err, message):
    with pytest.raises(err, match=message):
        call(minitune.zeros(2, 2, 4, 4))
