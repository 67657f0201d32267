"""Randomized live comparisons of conv2d, pooling, batch_norm and linear with an installed torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minitune  # noqa: E402
import minitune.nn.functional as F  # noqa: E402

pytestmark = [pytest.mark.kernels, pytest.mark.live_torch]
TF = torch.nn.functional


def _pair(rng, lo, hi):
    return (int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1)))


def _both(a):
    return minitune.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(ours, theirs, pairs, tol):
    np.testing.assert_allclose(ours[0].data, theirs[0].detach().numpy(), rtol=tol, atol=tol, err_msg="output")
    g = np.random.default_rng(99).standard_normal(ours[0].shape).astype(ours[0].dtype)
    ours[0].backward(minitune.tensor(g))
    theirs[0].backward(torch.tensor(g))
    for name, (a, b) in pairs.items():
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol, err_msg=f"grad {name}")


DT = [(np.float64, 1e-9), (np.float32, 2e-4)]


@pytest.mark.parametrize("dtype,tol", DT)
@pytest.mark.parametrize("seed", range(12))
def test_conv2d_random(seed, dtype, tol):
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 2, 3]))
    C, O = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    k, s, d = _pair(rng, 1, 4), _pair(rng, 1, 3), _pair(rng, 1, 2)
    p = (int(rng.integers(0, 4)), int(rng.integers(0, 4)))
    H = d[0] * (k[0] - 1) + 1 + int(rng.integers(0, 8))
    W = d[1] * (k[1] - 1) + 1 + int(rng.integers(0, 8))
    x, tx = _both(rng.standard_normal((int(rng.integers(1, 4)), C, H, W)).astype(dtype))
    w, tw = _both(rng.standard_normal((O, C // groups) + k).astype(dtype))
    b, tb = _both(rng.standard_normal(O).astype(dtype))
    ours = F.conv2d(x, w, b, s, p, d, groups)
    theirs = TF.conv2d(tx, tw, tb, s, p, d, groups)
    _check((ours,), (theirs,), {"x": (x, tx), "w": (w, tw), "b": (b, tb)}, tol)


@pytest.mark.parametrize("dtype,tol", DT)
@pytest.mark.parametrize("seed", range(8))
def test_pooling_random(seed, dtype, tol):
    rng = np.random.default_rng(100 + seed)
    k, s = _pair(rng, 1, 4), _pair(rng, 1, 3)
    p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), k[0] + int(rng.integers(0, 7)), k[1] + int(rng.integers(0, 7)))
    a = rng.standard_normal(shape).astype(dtype)
    for ours_fn, torch_fn in ((F.max_pool2d, TF.max_pool2d), (F.avg_pool2d, TF.avg_pool2d)):
        x, tx = _both(a)
        _check((ours_fn(x, k, s, p),), (torch_fn(tx, k, s, p),), {"x": (x, tx)}, tol)
    out = _pair(rng, 1, 4)
    x, tx = _both(a)
    _check((F.adaptive_avg_pool2d(x, out),), (TF.adaptive_avg_pool2d(tx, out),), {"x": (x, tx)}, tol)


@pytest.mark.parametrize("dtype,tol", DT)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_batch_norm_random(seed, training, dtype, tol):
    rng = np.random.default_rng(200 + seed)
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 5))) + tuple(int(v) for v in rng.integers(1, 6, size=seed % 3))
    C = shape[1]
    x, tx = _both((rng.standard_normal(shape) * 3 + 1).astype(dtype))
    w, tw = _both(rng.standard_normal(C).astype(dtype))
    b, tb = _both(rng.standard_normal(C).astype(dtype))
    rm0, rv0 = rng.standard_normal(C).astype(dtype), (rng.random(C) + 0.5).astype(dtype)
    rm, rv = minitune.tensor(rm0.copy()), minitune.tensor(rv0.copy())
    trm, trv = torch.tensor(rm0.copy()), torch.tensor(rv0.copy())
    ours = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.3, eps=1e-3)
    theirs = TF.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=0.3, eps=1e-3)
    _check((ours,), (theirs,), {"x": (x, tx), "w": (w, tw), "b": (b, tb)}, tol)
    np.testing.assert_allclose(rm.data, trm.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(rv.data, trv.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype,tol", DT)
def test_linear_random(dtype, tol):
    rng = np.random.default_rng(300)
    x, tx = _both(rng.standard_normal((3, 2, 7)).astype(dtype))
    w, tw = _both(rng.standard_normal((5, 7)).astype(dtype))
    b, tb = _both(rng.standard_normal(5).astype(dtype))
    _check((F.linear(x, w, b),), (TF.linear(tx, tw, tb),), {"x": (x, tx), "w": (w, tw), "b": (b, tb)}, tol)
