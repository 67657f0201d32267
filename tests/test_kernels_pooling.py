"""Pooling kernels: the numba kernels against their numpy twins, on every case of ``tests/pooling_cases.py``;
read-only and broadcast inputs; the MINITUNE_NO_JIT switch.  (torch's rules: ``test_functional_pooling.py``.)"""
import os
import subprocess
import sys

import numpy as np
import pytest
from pooling_cases import ADAPTIVE_CASES, ADAPTIVE_MAX_CASES, AVG_POOL_CASES, MAX_POOL_CASES, seed

from minitune.kernels import pooling as P
from minitune.kernels.max_pool_values import max_pool2d_values
from minitune.nn.functional.arguments import pair

pytestmark = pytest.mark.kernels


def _window(kwargs):
    """The kernel's positional (kernel, stride, padding) and keyword arguments for a table case."""
    k = pair(kwargs["kernel_size"], "kernel_size")
    s = pair(kwargs["stride"], "stride") if "stride" in kwargs else k
    rest = {key: (pair(v, key) if key == "dilation" else v) for key, v in kwargs.items()
            if key not in ("kernel_size", "stride", "padding")}
    return (k, s, pair(kwargs.get("padding", 0), "padding")), rest


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", MAX_POOL_CASES)
def test_max_pool_fast_matches_twin(name, dtype, threads):
    shape, kwargs = MAX_POOL_CASES[name]
    args, rest = _window(kwargs)
    rng = np.random.default_rng(seed(name))
    x = rng.standard_normal(shape).astype(dtype)
    y, idx = P.max_pool2d_forward(x, *args, **rest)
    y_ref, idx_ref = P.max_pool2d_forward_reference(x, *args, **rest)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    g = rng.standard_normal(y.shape).astype(dtype)
    # both add the upstream values into each gradient cell in the same (output) order: equal bits
    np.testing.assert_array_equal(P.max_pool2d_backward(g, idx, shape), P.max_pool2d_backward_reference(g, idx_ref, shape))


# Rows wider than two SIMD vectors (the SIMD kernel's tails), strides 1 and 2, ceil_mode, NaN and −∞.
WIDE_MAX_POOL = [((2, 3, 9, 41), (3, 3), (2, 2), (1, 1), False), ((1, 2, 6, 70), (3, 2), (1, 1), (1, 0), False),
                 ((2, 1, 8, 37), (2, 3), (2, 2), (0, 1), True), ((1, 2, 5, 100), (1, 1), (2, 2), (0, 0), False)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,k,s,p,ceil_mode", WIDE_MAX_POOL)
def test_max_pool_wide_rows_nan_and_minus_inf_match_twin(shape, k, s, p, ceil_mode, dtype, threads):
    rng = np.random.default_rng(shape[3])
    x = rng.standard_normal(shape).astype(dtype)
    x[..., 1, ::7] = np.nan  # NaN wins, the last one in a window keeps the index
    x[..., 2, :] = -np.inf   # windows of −∞ point at their first cell inside the input
    y, idx = P.max_pool2d_forward(x, k, s, p, ceil_mode=ceil_mode)
    y_ref, idx_ref = P.max_pool2d_forward_reference(x, k, s, p, ceil_mode=ceil_mode)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(MAX_POOL_CASES) + [f"wide{i}" for i in range(len(WIDE_MAX_POOL))])
def test_max_pool_values_match_the_twin(case, dtype, threads):
    """max_pool_values.py (inference: no arg-max, numpy) gives the twin's y bit for bit — NaN, −∞, the sign
    of tied zeros — on every case, on a non-contiguous input too."""
    if case.startswith("wide"):
        shape, k, s, p, ceil_mode = WIDE_MAX_POOL[int(case[4:])]
        args, rest = (k, s, p), dict(ceil_mode=ceil_mode)
    else:
        shape, kwargs = MAX_POOL_CASES[case]
        args, rest = _window(kwargs)
    rng = np.random.default_rng(seed(case))
    x = rng.choice(np.array([-1.0, -0.0, 0.0, 0.5, np.nan, -np.inf]), size=shape, p=[.3, .25, .25, .1, .05, .05])
    x = x.astype(dtype)
    y_ref, _ = P.max_pool2d_forward_reference(x, *args, **rest)
    for xs in (x, np.asfortranarray(x)):
        y = max_pool2d_values(xs, *args, **rest)
        np.testing.assert_array_equal(y, y_ref)
        zero = y_ref == 0
        np.testing.assert_array_equal(np.signbit(y[zero]), np.signbit(y_ref[zero]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", AVG_POOL_CASES)
def test_avg_pool_fast_matches_twin(name, dtype):
    shape, kwargs = AVG_POOL_CASES[name]
    args, rest = _window(kwargs)
    rng = np.random.default_rng(seed(name))
    x = rng.standard_normal(shape).astype(dtype)
    tol = dict(rtol=1e-13, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    y = P.avg_pool2d_forward(x, *args, **rest)
    np.testing.assert_allclose(y, P.avg_pool2d_forward_reference(x, *args, **rest), **tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(P.avg_pool2d_backward(g, shape, *args, **rest),
                               P.avg_pool2d_backward_reference(g, shape, *args, **rest), **tol)


@pytest.mark.parametrize("name", ADAPTIVE_CASES)
def test_adaptive_avg_pool_fast_matches_twin(name):
    shape, out = ADAPTIVE_CASES[name]
    rng = np.random.default_rng(seed(name))
    x = rng.standard_normal(shape)
    y = P.adaptive_avg_pool2d_forward(x, out)
    np.testing.assert_allclose(y, P.adaptive_avg_pool2d_forward_reference(x, out), rtol=1e-13)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(P.adaptive_avg_pool2d_backward(g, shape),
                               P.adaptive_avg_pool2d_backward_reference(g, shape), rtol=1e-13)


@pytest.mark.parametrize("name", ADAPTIVE_MAX_CASES)
def test_adaptive_max_pool_is_max_pool_where_the_bins_are_windows(name):
    """When H and W are multiples of the output size, the bins are plain windows: max pooling's kernel agrees."""
    shape, (oh, ow) = ADAPTIVE_MAX_CASES[name]
    x = np.random.default_rng(seed(name)).standard_normal(shape[:2] + (oh * 3, ow * 2))
    y, idx = P.adaptive_max_pool2d_forward(x, (oh, ow))
    y_ref, idx_ref = P.max_pool2d_forward(x, (3, 2), (3, 2), (0, 0))
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)


def _awkward_inputs(shape):
    """The same values as a read-only array and as a broadcast (stride-0) view."""
    base = np.random.default_rng(seed("awkward")).standard_normal(shape)
    read_only = base.copy()
    read_only.flags.writeable = False
    broadcast = np.broadcast_to(base[:, :, :1, :], shape)
    return [(read_only, base), (broadcast, np.ascontiguousarray(broadcast))]


@pytest.mark.parametrize("case", [0, 1], ids=["read_only", "broadcast"])
def test_every_kernel_takes_read_only_and_broadcast_inputs(case):
    shape = (2, 3, 6, 6)
    x, plain = _awkward_inputs(shape)[case]
    win = ((3, 3), (2, 2), (1, 1))
    y, idx = P.max_pool2d_forward(x, *win)
    np.testing.assert_array_equal(y, P.max_pool2d_forward(plain, *win)[0])
    g = np.broadcast_to(np.ones(1), y.shape)  # a broadcast upstream gradient too
    P.max_pool2d_backward(g, idx, shape)
    np.testing.assert_array_equal(P.avg_pool2d_forward(x, *win), P.avg_pool2d_forward(plain, *win))
    P.avg_pool2d_backward(g, shape, *win)
    np.testing.assert_array_equal(P.adaptive_avg_pool2d_forward(x, (2, 3)), P.adaptive_avg_pool2d_forward(plain, (2, 3)))
    P.adaptive_avg_pool2d_backward(np.broadcast_to(np.ones(1), (2, 3, 2, 3)), shape)
    np.testing.assert_array_equal(P.adaptive_max_pool2d_forward(x, (2, 2))[0],
                                  P.adaptive_max_pool2d_forward(plain, (2, 2))[0])


@pytest.mark.parametrize("k,p,message", [((2, 2), (2, 2), "at most half"), ((5, 5), (0, 0), "larger than the padded")])
def test_bad_window_raises(k, p, message):
    with pytest.raises(ValueError, match=message):
        P.pool2d_output_size(4, 4, k, k, p)


def test_no_jit_switch_runs_the_twins():
    """With MINITUNE_NO_JIT=1 the public kernels call the twins: seen where the two differ on purpose —
    with two NaNs in a window the twin's np.argmax takes the first, the numba kernel (torch) the last."""
    code = ("import numpy as np\n"
            "from minitune.kernels import pooling as P\n"
            "x = np.array([[[[np.nan, 1.0, np.nan]]]])\n"
            "print(int(P.max_pool2d_forward(x, (1, 3), (1, 3), (0, 0))[1].ravel()[0]))\n")
    env = dict(os.environ, MINITUNE_NO_JIT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    x = np.array([[[[np.nan, 1.0, np.nan]]]])
    assert int(out.stdout) == int(P.max_pool2d_forward_reference(x, (1, 3), (1, 3), (0, 0))[1].ravel()[0]) == 0
    assert int(P.max_pool2d_forward(x, (1, 3), (1, 3), (0, 0))[1].ravel()[0]) == 2
