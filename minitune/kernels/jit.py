"""How kernels are compiled: one ``njit`` decorator and the ``MINITUNE_NO_JIT`` switch.

Every kernel module defines a slow numpy *twin* first and a numba kernel after it; the
public name picks one of the two with ``pick(fast, twin)``.  With the environment variable
``MINITUNE_NO_JIT=1`` (read once, at import) every public kernel is its numpy twin: useful
to debug a kernel in pure Python, and to check that the twins alone give the same numbers.

Compilation contract (keeps ``import minitune`` + first forward cheap):

- ``cache=True``: the machine code is written to numba's cache (``__pycache__`` next to the
  source, or ``NUMBA_CACHE_DIR``) and reused by the next process.
- No eager signatures: a kernel compiles on first call, once per dtype actually used
  (float32 for training, float64 for gradcheck).
- No ``fastmath``: reassociated sums would break the float64 parity with torch.

Threads.  The outer loops of im2col, col2im, pooling and batch norm are written with
``prange`` (the iterations are independent: each writes its own rows or channels), but they
are compiled *serial* unless ``MINITUNE_NUMBA_PARALLEL=1`` is set.  Measured on the 2-core
machine this project targets (ResNet-18, batch 8, 2 BLAS threads): serial kernels give
32 img/s inference and 12 img/s training, parallel ones 17 and 6.5.  The reason: BLAS
(``np.matmul``) runs on OpenBLAS's threads, which keep spinning for a while after each
GEMM; a parallel numba loop started right after a GEMM fights them for the two cores, and
its static schedule waits for the slowest thread.  Re-measured with OpenBLAS's SkylakeX
kernels (``OPENBLAS_CORETYPE`` unset, batch 8): a training step took 555 ms serial against
1070 ms parallel — the GEMMs themselves slow down 2x.  Serial kernels also compile faster.
On a machine with many cores, try ``MINITUNE_NUMBA_PARALLEL=1`` (and clear numba's cache,
whose index does not record the flag).  When it is on, ``OMP_WAIT_POLICY=PASSIVE`` is set
(unless the user set it) so that numba's OpenMP threads sleep instead of spinning between
loops.
"""
import os

import numba

NO_JIT = os.environ.get("MINITUNE_NO_JIT", "") not in ("", "0")
PARALLEL = os.environ.get("MINITUNE_NUMBA_PARALLEL", "") not in ("", "0")
if PARALLEL:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def njit(parallel=False):
    """``numba.njit(cache=True)`` — the one way kernels are compiled.

    ``parallel=True`` marks a kernel whose ``prange`` loop may run on several threads; it
    does so only when ``MINITUNE_NUMBA_PARALLEL=1`` (see the module docstring).
    """
    return numba.njit(cache=True, parallel=parallel and PARALLEL, nogil=True)


prange = numba.prange


def pick(fast, twin):
    """The public kernel: ``twin`` when ``MINITUNE_NO_JIT=1``, else ``fast``."""
    return twin if NO_JIT else fast

