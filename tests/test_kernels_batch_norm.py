"""Batch-norm kernels: numba against the numpy twin, running statistics, the one-value error."""
import numpy as np
import pytest

from minitune.kernels import batch_norm as B

pytestmark = pytest.mark.kernels

SHAPES = [(4, 3, 5, 6), (5, 4), (2, 3, 7), (1, 2, 3, 3)]


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_fast_matches_twin(shape, affine, training, dtype, tol, threads):
    rng = np.random.default_rng(0)
    C = shape[1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w = rng.standard_normal(C).astype(dtype) if affine else None
    b = rng.standard_normal(C).astype(dtype) if affine else None
    rm, rv = rng.standard_normal(C).astype(dtype), (rng.random(C) + 0.5).astype(dtype)
    rm2, rv2 = rm.copy(), rv.copy()
    y, mean, invstd = B._batch_norm_forward_fast(x, w, b, rm, rv, training, 0.1, 1e-5)
    y_ref, mean_ref, invstd_ref = B.batch_norm_forward_reference(x, w, b, rm2, rv2, training, 0.1, 1e-5)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, y_ref, rtol=tol, atol=tol, err_msg="forward")
    np.testing.assert_allclose(rm, rm2, rtol=tol, atol=tol, err_msg="running_mean")
    np.testing.assert_allclose(rv, rv2, rtol=tol, atol=tol, err_msg="running_var")
    g = rng.standard_normal(shape).astype(dtype)
    fast = B._batch_norm_backward_fast(g, x, w, mean, invstd, training)
    twin = B.batch_norm_backward_reference(g, x, w, mean_ref, invstd_ref, training)
    for name, a, r in zip(("grad_input", "grad_weight", "grad_bias"), fast, twin):
        np.testing.assert_allclose(a, r, rtol=tol * 10, atol=tol * 10, err_msg=name)


def test_running_statistics_use_unbiased_variance():
    x = np.arange(8, dtype=np.float64).reshape(2, 1, 2, 2)  # one channel, values 0..7
    rm, rv = np.zeros(1), np.ones(1)
    B.batch_norm_forward(x, None, None, rm, rv, True, 0.5, 1e-5)
    assert rm[0] == pytest.approx(0.5 * 3.5)
    assert rv[0] == pytest.approx(0.5 * 1 + 0.5 * np.var(np.arange(8), ddof=1))


@pytest.mark.parametrize("fn", [B._batch_norm_forward_fast, B.batch_norm_forward_reference])
def test_one_value_per_channel_raises_in_training(fn):
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size \(1, 3, 1, 1\)"):
        fn(np.zeros((1, 3, 1, 1)), None, None, None, None, True, 0.1, 1e-5)
