"""The readable numba GEMM against the numpy twin and np.matmul."""
import numpy as np
import pytest

from minitune.kernels import matmul as M

pytestmark = pytest.mark.kernels


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("n,k,m", [(1, 1, 1), (3, 5, 7), (33, 129, 17), (64, 300, 65)])
def test_numba_gemm_matches_twin_and_blas(n, k, m, dtype, tol):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, k)).astype(dtype), rng.standard_normal((k, m)).astype(dtype)
    want = M.matmul_reference(a, b)
    np.testing.assert_allclose(M.matmul_numba(a, b), want, rtol=tol, atol=tol * np.sqrt(k))
    np.testing.assert_allclose(M.matmul(a, b), want, rtol=tol, atol=tol * np.sqrt(k))


def test_non_contiguous_inputs():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((10, 6)).T
    b = rng.standard_normal((10, 4))
    np.testing.assert_allclose(M.matmul_numba(a, b), a @ b, rtol=1e-12)


@pytest.mark.parametrize("a,b,err", [((2, 3), (4, 5), ValueError), ((2, 3, 1), (3, 2), ValueError)])
def test_bad_shapes(a, b, err):
    with pytest.raises(err, match="matmul"):
        M.matmul_numba(np.zeros(a), np.zeros(b))


def test_dtype_mismatch():
    with pytest.raises(TypeError, match="same dtype"):
        M.matmul_numba(np.zeros((2, 2), np.float32), np.zeros((2, 2)))


@pytest.mark.parametrize("n,k,m", [(1, 4, 3), (7, 5, 9), (64, 147, 300), (300, 20, 64)])
def test_matmul_in_parts_is_the_product(n, k, m, threads):
    """C in column parts (wide) or row parts (tall, or B's rows not contiguous), one per thread: the
    same numbers as np.matmul, into ``out`` when given."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((n, k)).astype(np.float32), rng.standard_normal((k, m)).astype(np.float32)
    want = M.matmul_reference(a, b)
    np.testing.assert_allclose(M.matmul_in_parts(a, b), want, rtol=1e-5, atol=1e-5 * np.sqrt(k))
    out = np.empty((n, m), np.float32)
    assert M.matmul_in_parts(a, b.T.copy().T, out=out) is out  # a non-contiguous B
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5 * np.sqrt(k))
