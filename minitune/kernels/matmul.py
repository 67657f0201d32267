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

Measured on the 2-core test machine (AMD EPYC with AVX-512, float32, n = 64, k = 576,
m = 3136 — one sample of a ResNet-18 layer1 convolution as an im2col GEMM; reprint with
``python -c "import minitune.kernels.matmul as m; m.benchmark()"``):

    matmul_numba, serial (default)                 ~45 GFLOP/s
    matmul_numba, MINITUNE_NUMBA_PARALLEL=1        ~71 GFLOP/s  (2 threads)
    np.matmul, 1 thread                            ~112 GFLOP/s
    np.matmul, 2 threads                           ~220 GFLOP/s
    (OpenBLAS with OPENBLAS_CORETYPE=Haswell, i.e. AVX2 kernels, as this machine is set up;
    its AVX-512 kernels reach ~200 GFLOP/s on one thread)

numba cannot call BLAS from jitted code without SciPy (not a dependency), so the hot paths
(conv2d's im2col GEMMs, linear) call ``np.matmul`` from Python, outside jitted code; the
numba GEMM is the readable reference for what BLAS does, several times slower.
"""
import numpy as np

from .jit import njit, pick, prange

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
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: expected (n, k) and (k, m) matrices, got shapes {a.shape} and {b.shape}")
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: both matrices must have the same dtype, got {a.dtype} and {b.dtype}")


def matmul_numba(a, b):
    """C = A·B with the tiled numba GEMM (see the module docstring)."""
    _check(a, b)
    return _matmul_numba(np.ascontiguousarray(a), np.ascontiguousarray(b))


def _matmul_blas(a, b):
    _check(a, b)
    return np.matmul(a, b)


matmul = pick(_matmul_blas, matmul_reference)


def _gflops(fn, a, b, repeat=5):
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
