r"""Matrix product C = A·B, (n×k)·(k×m) → n×m:  C[i, j] = Σ_p A[i, p] B[p, j].

Three rungs of the ladder, each checked against the one before by the tests:

1. ``matmul_reference`` — the definition, a Python loop over i with a numpy dot per row.
2. ``matmul_numba`` — a hand-written tiled GEMM students can read: ``prange`` over blocks
   of ``TILE_I`` rows of C (each thread owns its rows: no races), then blocks of ``TILE_P``
   of the shared dimension so a panel of B stays in cache while it is reused by every row
   of the block, and the i-p-j loop order so the inner loop runs along a row of B and a row
   of C with unit stride (LLVM vectorizes it into SIMD multiply-adds).
3. ``matmul`` — ``np.matmul``: OpenBLAS sgemm/dgemm, with register blocking, packing and
   hand-written assembly micro-kernels.

``matmul_in_parts`` is rung 3 on several cores: C cut into blocks of columns (or of rows, for a
tall C), one per thread (threads.py), each part one single-threaded BLAS call.  The
convolutions use it for their GEMMs when they could not cut their batch into parts (one
image), since minitune runs numpy's BLAS on one thread (threads.py says why).

``python -c "import minitune.kernels.matmul as m; m.benchmark()"`` prints the GFLOP/s of rungs
2 and 3 on one sample of a ResNet-18 layer1 convolution as an im2col GEMM (64 × 576 × 3136);
the measured numbers are in benchmarks/README.md ("The GEMM ladder").

numba cannot call BLAS from jitted code without SciPy (not a dependency), so the hot paths
(conv2d's im2col GEMMs, linear) call ``np.matmul`` from Python, outside jitted code; the
numba GEMM is the readable reference for what BLAS does, several times slower.
"""
import numpy as np

from .jit import NO_JIT, njit, prange
from .threads import in_part, run_parts, split

TILE_I = 32
TILE_P = 128


def matmul_reference(a, b):
    """numpy twin: C[i, :] = Σ_p A[i, p] · B[p, :], row by row."""
    n, k = a.shape
    c = np.empty((n, b.shape[1]), dtype=np.result_type(a, b))
    for i in range(n):
        c[i] = (a[i, :, None] * b).sum(axis=0)
    return c


@njit(parallel=True)
def _matmul_numba(a, b):
    """C = A·B: prange over TILE_I-row blocks of C, TILE_P-blocks of the shared dimension, i-p-j order."""
    n, k = a.shape
    m = b.shape[1]
    c = np.zeros((n, m), dtype=a.dtype)
    for ib in prange((n + TILE_I - 1) // TILE_I):
        i0, i1 = ib * TILE_I, min(ib * TILE_I + TILE_I, n)
        for p0 in range(0, k, TILE_P):
            p1 = min(p0 + TILE_P, k)
            for i in range(i0, i1):
                for p in range(p0, p1):
                    aip = a[i, p]
                    for j in range(m):
                        c[i, j] += aip * b[p, j]
    return c


def _check(a, b):
    """ValueError unless (n, k)·(k, m); TypeError unless one dtype."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: expected (n, k) and (k, m) matrices, got shapes {a.shape} and {b.shape}")
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: both matrices must have the same dtype, got {a.dtype} and {b.dtype}")


def matmul_numba(a, b):
    """C = A·B with the tiled numba GEMM (see the module docstring)."""
    _check(a, b)
    return _matmul_numba(np.ascontiguousarray(a), np.ascontiguousarray(b))


def matmul(a, b):
    """C = A·B for (n, k)·(k, m) matrices of one dtype: ``np.matmul`` (BLAS), or the numpy twin
    ``matmul_reference`` with ``MINITUNE_NO_JIT=1``."""
    _check(a, b)
    return matmul_reference(a, b) if NO_JIT else np.matmul(a, b)


# A GEMM is cut into parts only when each part has at least this many multiply-adds.
MIN_PART_MULTIPLIES = 2_000_000


def matmul_in_parts(a, b, out=None):
    """C = A·B (``np.matmul`` of 2-D arrays) cut into parts, one per thread, each one BLAS call.

    A wide C (m ≥ n, a one-image convolution: 64 × 3136) is cut into column blocks, C[:, c0:c1] =
    A·B[:, c0:c1], so that every part keeps all the rows of A: OpenBLAS runs a 64-row product ~30 %
    faster than a 32-row one (benchmarks/README.md).  A tall C, or a B whose rows are not contiguous
    (its column blocks would not be BLAS operands), is cut into row blocks, C[r0:r1] = A[r0:r1]·B.
    ``out``: a C-contiguous (n, m) array to write C into.  One plain ``np.matmul`` when called
    inside a part, or for a small product."""
    n, k = a.shape
    m = b.shape[1]
    by_columns = m >= n and b.strides[1] == b.itemsize
    cut = m if by_columns else n
    parts = [(0, n)] if in_part() else split(cut, work=n * k * m, min_part_work=MIN_PART_MULTIPLIES)
    if len(parts) == 1:
        return np.matmul(a, b, out=out)
    out = np.empty((n, m), dtype=np.result_type(a, b)) if out is None else out
    if by_columns:
        run_parts(lambda c0, c1: np.matmul(a, b[:, c0:c1], out=out[:, c0:c1]), parts)
    else:
        run_parts(lambda r0, r1: np.matmul(a[r0:r1], b, out=out[r0:r1]), parts)
    return out


def _gflops(fn, a, b, repeat=5):
    """GFLOP/s of fn(a, b): 2·n·k·m flops per call, best of the average over ``repeat`` calls."""
    import time

    fn(a, b)
    t = time.perf_counter()
    for _ in range(repeat):
        fn(a, b)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] * repeat / (time.perf_counter() - t) / 1e9


def benchmark():
    """Print GFLOP/s of the numba GEMM and of np.matmul on a ResNet-18 layer1-sized product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 576), dtype=np.float32)
    b = rng.standard_normal((576, 3136), dtype=np.float32)
    print(f"matmul_numba {_gflops(matmul_numba, a, b):6.1f} GFLOP/s")
    print(f"np.matmul    {_gflops(np.matmul, a, b):6.1f} GFLOP/s")
