r"""Fused multiply-add with one rounding, ``out = x·y + z``: the element-wise step of every optimizer.

torch's vectorised CPU kernels evaluate ``a.add_(b, alpha=α)``, ``lerp_`` and ``addcmul_`` as fused
multiply-adds, rounded once; ``minitune/optim/fused.py`` says why an optimizer needs the same.
In float32 the product of two float32 numbers is exact in float64 (24 + 24 < 53 significant bits),
so

    out = float32( float64(x)·float64(y) + float64(z) )

is the fused result except in rare double-rounding ties.  float64 arrays get x·y + z, two roundings
(numpy has no float64 fused multiply-add; about one ulp from torch).

Read ``fma_reference`` first: numpy, five passes over the data with float64 temporaries (each
argument widened, the product, the sum, the rounding back).  The fast kernel computes the same
expression element by element in one pass — the same IEEE operations in the same order, so the
same bits — on the arrays cut into parts, one per thread (threads.py).  A ResNet-18 SGD step
with momentum and weight decay (three of these per parameter) took 104 ms with the twin, 22 ms
with the kernel (benchmarks/README.md).
"""
import numpy as np

from .jit import NO_JIT, njit
from .threads import run_parts, split

# Arrays are cut into parts (one per thread) of at least this many values each (see elementwise.py).
MIN_PART_VALUES = 524288


def fma_reference(x, y, z):
    """numpy twin: float32(float64(x)·float64(y) + float64(z)) for float32, x·y + z otherwise."""
    dtype = np.result_type(x, z)
    if np.isscalar(y):
        y = dtype.type(y)
    if dtype == np.float32:  # exact product in float64, one rounding back to float32
        return (np.asarray(x, np.float64) * np.asarray(y, np.float64) + np.asarray(z, np.float64)).astype(np.float32)
    return x * y + z


# Two loops each: into a separate ``out``, and into z itself (the optimizers' in-place updates).  With
# ``out`` and z the same array LLVM's runtime overlap check sends the first loop down its scalar
# path (measured 2.9x slower); the second reads and writes one array and stays vectorized.

@njit()
def _fma_scalar(x, y, z, out, lo, hi):
    """out[i] = float32(float64(x[i])·y + float64(z[i])) for lo ≤ i < hi (flat float32 arrays, y a float64)."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        out[i] = np.float64(x[i]) * y + np.float64(z[i])


@njit()
def _fma_scalar_into_z(x, y, z, lo, hi):
    """z[i] = float32(float64(x[i])·y + float64(z[i])) for lo ≤ i < hi."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        z[i] = np.float64(x[i]) * y + np.float64(z[i])


@njit()
def _fma_array(x, y, z, out, lo, hi):
    """out[i] = float32(float64(x[i])·float64(y[i]) + float64(z[i])) for lo ≤ i < hi (flat float32 arrays)."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        out[i] = np.float64(x[i]) * np.float64(y[i]) + np.float64(z[i])


@njit()
def _fma_array_into_z(x, y, z, lo, hi):
    """z[i] = float32(float64(x[i])·float64(y[i]) + float64(z[i])) for lo ≤ i < hi."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        z[i] = np.float64(x[i]) * np.float64(y[i]) + np.float64(z[i])


def _fast_applies(x, y, z, out):
    arrays = [x, z] + ([] if np.isscalar(y) else [y]) + ([] if out is None else [out])
    return all(isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous and a.shape == x.shape
               for a in arrays)


def fma(x, y, z, out=None):
    """x·y + z rounded once (float32; float64 as x·y + z), ``y`` an array or a Python/numpy scalar.

    Returns a fresh array, or writes ``out`` (which may be x, y or z: in place).  The numba kernel
    for float32 C-contiguous arrays of one shape; the numpy twin otherwise or with ``MINITUNE_NO_JIT=1``."""
    if NO_JIT or not _fast_applies(x, y, z, out):
        result = fma_reference(x, y, z)
        if out is None:
            return result
        out[...] = result
        return out
    into_z = out is not None and out.ctypes.data == z.ctypes.data
    if out is not None and not into_z and any(np.may_share_memory(out, a) for a in (x, y, z)):
        out[...] = fma(x, y, z)  # out overlaps an input elsewhere than z: through a fresh array
        return out
    result = z if into_z else np.empty_like(x) if out is None else out
    xf, zf, of = x.reshape(-1), z.reshape(-1), result.reshape(-1)
    parts = split(x.size, work=x.size, min_part_work=MIN_PART_VALUES)
    if np.isscalar(y):
        y64 = float(np.float32(y))  # the scalar is rounded to float32 first, as torch converts alpha
        if into_z:
            run_parts(lambda lo, hi: _fma_scalar_into_z(xf, y64, zf, lo, hi), parts)
        else:
            run_parts(lambda lo, hi: _fma_scalar(xf, y64, zf, of, lo, hi), parts)
    else:
        yf = y.reshape(-1)
        if into_z:
            run_parts(lambda lo, hi: _fma_array_into_z(xf, yf, zf, lo, hi), parts)
        else:
            run_parts(lambda lo, hi: _fma_array(xf, yf, zf, of, lo, hi), parts)
    return result
