"""Pooling kernels: numba against the numpy twins; tie-breaking and padding rules."""
import numpy as np
import pytest

from minitune.kernels import pooling as P

pytestmark = pytest.mark.kernels

# (shape, kernel, stride, padding)
CASES = [
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1)),
    ((1, 2, 6, 6), (2, 2), (2, 2), (0, 0)),
    ((1, 2, 7, 5), (3, 3), (1, 1), (1, 1)),
    ((2, 2, 7, 9), (2, 3), (1, 2), (1, 1)),
    ((1, 1, 8, 8), (7, 7), (3, 3), (3, 3)),
    ((3, 2, 5, 4), (1, 1), (2, 1), (0, 0)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,k,s,p", CASES)
def test_max_pool_fast_matches_twin(shape, k, s, p, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    y, idx = P._max_pool2d_forward_fast(x, k, s, p)
    y_ref, idx_ref = P.max_pool2d_forward_reference(x, k, s, p)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(P._max_pool2d_backward_fast(g, idx, shape),
                               P.max_pool2d_backward_reference(g, idx_ref, shape), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,k,s,p", CASES)
def test_avg_pool_fast_matches_twin(shape, k, s, p, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    y = P._avg_pool2d_forward_fast(x, k, s, p)
    np.testing.assert_allclose(y, P.avg_pool2d_forward_reference(x, k, s, p), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(P._avg_pool2d_backward_fast(g, shape, k, s, p),
                               P.avg_pool2d_backward_reference(g, shape, k, s, p), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,out", [((2, 3, 5, 7), (1, 1)), ((1, 2, 7, 5), (3, 2)), ((1, 2, 10, 9), (4, 4))])
def test_adaptive_avg_pool_fast_matches_twin(shape, out):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    y = P._adaptive_avg_pool2d_forward_fast(x, out)
    np.testing.assert_allclose(y, P.adaptive_avg_pool2d_forward_reference(x, out), rtol=1e-12)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(P._adaptive_avg_pool2d_backward_fast(g, shape),
                               P.adaptive_avg_pool2d_backward_reference(g, shape), rtol=1e-12)


def test_adaptive_bins_overlap_as_torch():
    # 7 rows into 3 bins: [0, 3), [2, 5), [4, 7)
    assert P.adaptive_bins(7, 3) == [(0, 3), (2, 5), (4, 7)]


def test_max_pool_ties_give_gradient_to_first_only():
    x = np.ones((1, 1, 2, 2))
    for pool in (P._max_pool2d_forward_fast, P.max_pool2d_forward_reference):
        y, idx = pool(x, (2, 2), (2, 2), (0, 0))
        assert idx.ravel().tolist() == [0]
    gx = P._max_pool2d_backward_fast(np.full((1, 1, 1, 1), 5.0), idx, x.shape)
    assert gx.ravel().tolist() == [5.0, 0.0, 0.0, 0.0]


def test_max_pool_padding_is_minus_infinity():
    x = -np.ones((1, 1, 2, 2))
    y, _ = P._max_pool2d_forward_fast(x, (2, 2), (1, 1), (1, 1))
    assert np.all(y == -1.0)  # zero padding would give 0 here


@pytest.mark.parametrize("k,p,message", [((2, 2), (2, 2), "at most half"), ((5, 5), (0, 0), "larger than the padded")])
def test_bad_window_raises(k, p, message):
    with pytest.raises(ValueError, match=message):
        P.pool2d_output_size(4, 4, k, k, p)


def test_max_pool_nan_wins_as_torch():
    """torch's rule: take v when v > best or v is NaN — a NaN wins, and a later NaN moves the index."""
    x = np.array([[[[1.0, np.nan, 2.0, np.nan]]]])
    for pool in (P._max_pool2d_forward_fast, P.max_pool2d_forward_reference):
        y, idx = pool(x, (1, 4), (1, 4), (0, 0))
        assert np.isnan(y[0, 0, 0, 0])
    y, idx = P._max_pool2d_forward_fast(x, (1, 4), (1, 4), (0, 0))
    assert idx.ravel().tolist() == [3]
