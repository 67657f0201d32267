"""F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d: gradcheck, torch fixtures, bad arguments."""
import numpy as np
import pytest
from conftest import load_reference

import minitune
import minitune.nn.functional as F

pytestmark = pytest.mark.kernels


def _t(a, requires_grad=True):
    return minitune.tensor(np.asarray(a), requires_grad=requires_grad)


# (shape, kernel, stride, padding)
GRID = [
    ((1, 2, 5, 5), 3, 2, 1),
    ((2, 1, 6, 6), 2, None, 0),
    ((1, 2, 7, 5), 3, 1, 1),
    ((1, 1, 7, 9), (2, 3), (1, 2), (1, 1)),
    ((1, 1, 8, 7), 7, 3, 3),
    ((1, 2, 9, 9), 3, 3, 0),
]


def _distinct(shape, seed=0):
    """Random values without ties, so that max pooling is differentiable everywhere."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + rng.standard_normal(shape) * 1e-3


@pytest.mark.parametrize("shape,k,s,p", GRID)
def test_gradcheck_max_pool(shape, k, s, p):
    minitune.gradcheck(lambda x: F.max_pool2d(x, k, s, p), _t(_distinct(shape)))


@pytest.mark.parametrize("shape,k,s,p", GRID)
def test_gradcheck_avg_pool(shape, k, s, p):
    minitune.gradcheck(lambda x: F.avg_pool2d(x, k, s, p), _t(_distinct(shape)))


@pytest.mark.parametrize("shape,out", [((1, 2, 5, 7), 1), ((1, 2, 7, 5), (3, 2)), ((2, 1, 10, 9), (4, None))])
def test_gradcheck_adaptive_avg_pool(shape, out):
    minitune.gradcheck(lambda x: F.adaptive_avg_pool2d(x, out), _t(_distinct(shape)))


# the same cases as tools/references/kernels.py
POOL_FIXTURES = {"k3s2p1": (3, 2, 1), "k2s2": (2, None, 0), "k3s1p1": (3, 1, 1), "rect": ((2, 3), (1, 2), (1, 1))}
ADAPTIVE_FIXTURES = {"global": (1, 1), "3x2": (3, 2), "4x4": (4, 4)}
TOL = {"f64": dict(rtol=1e-12, atol=1e-12), "f32": dict(rtol=1e-5, atol=1e-6)}
CASES = ([("max_pool2d", n, a) for n, a in POOL_FIXTURES.items()] + [("avg_pool2d", n, a) for n, a in POOL_FIXTURES.items()]
         + [("adaptive_avg_pool2d", n, (a,)) for n, a in ADAPTIVE_FIXTURES.items()])


@pytest.mark.parametrize("tag", ["f64", "f32"])
@pytest.mark.parametrize("kind,name,args", CASES)
def test_matches_torch(kind, name, args, tag):
    ref = load_reference(f"kernels_{kind}_{name}_{tag}")
    x = _t(ref["x"])
    if kind == "max_pool2d":
        y, idx = F.max_pool2d(x, *args, return_indices=True)
        np.testing.assert_array_equal(idx.data, ref["indices"], err_msg="indices vs torch")
    else:
        y = getattr(F, kind)(x, *args)
    assert y.dtype == ref["y"].dtype
    np.testing.assert_allclose(y.data, ref["y"], **TOL[tag], err_msg="output vs torch")
    y.backward(minitune.tensor(ref["g"]))
    np.testing.assert_allclose(x.grad.data, ref["gx"], **TOL[tag], err_msg="grad_input vs torch")


def test_unbatched_input():
    x = _distinct((2, 6, 6))
    y3 = F.max_pool2d(_t(x, False), 2)
    y4 = F.max_pool2d(_t(x[None], False), 2)
    np.testing.assert_array_equal(y3.data, y4.data[0])


# (call, error, message)
BAD = [
    (lambda x: F.max_pool2d(x, 2, padding=2), ValueError, "at most half"),
    (lambda x: F.avg_pool2d(x, 9), ValueError, "larger than the padded input"),
    (lambda x: F.max_pool2d(x, 2, ceil_mode=True), ValueError, "ceil_mode=False"),
    (lambda x: F.avg_pool2d(x, 2, count_include_pad=False), ValueError, "count_include_pad=True"),
    (lambda x: F.max_pool2d(x.reshape(2, 2, 2, 2, 2, 2), 2), ValueError, "expected 3-D .* or 4-D"),
    (lambda x: F.max_pool2d(x.to(minitune.int64), 2), TypeError, "float32 or float64"),
    (lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), ValueError, "int or a pair"),
    (lambda x: F.max_pool2d(x.data, 2), TypeError, "must be a Tensor"),
]


@pytest.mark.parametrize("call,err,message", BAD)
def test_bad_arguments(call, err, message):
    with pytest.raises(err, match=message):
        call(minitune.zeros(2, 2, 4, 4))
