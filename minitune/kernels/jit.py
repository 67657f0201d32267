"""How kernels are compiled: one ``njit`` decorator and the ``MINITUNE_NO_JIT`` switch.

Every kernel module defines a slow numpy *twin* first and a numba kernel after it; the
public kernel is a ``def`` that calls the twin when ``NO_JIT`` is set, the fast path
otherwise.  With the environment variable ``MINITUNE_NO_JIT=1`` (read once, at import)
every public kernel runs its numpy twin: useful
to debug a kernel in pure Python, and to check that the twins alone give the same numbers.

Compilation contract (keeps ``import minitune`` + first forward cheap):

- ``cache=True``: the machine code is written to numba's cache (``__pycache__`` next to the
  source, or ``NUMBA_CACHE_DIR``) and reused by the next process.
- No eager signatures: a kernel compiles on first call, once per dtype actually used
  (float32 for training, float64 for gradcheck).
- No ``fastmath``: reassociated sums would break the float64 parity with torch.

Threads.  The outer loops of the kernels are written with ``prange`` (the iterations are
independent: each writes its own rows or channels), but they are compiled *serial* unless
``MINITUNE_NUMBA_PARALLEL=1`` is set.  On the 2-core machines this project targets, parallel
numba loops made a ResNet-18 step about 2x slower (benchmarks/README.md): BLAS runs on
OpenBLAS's threads, which keep spinning for a while after each GEMM, and a parallel numba
loop started right after a GEMM fights them for the two cores.  On a machine with many
cores, try ``MINITUNE_NUMBA_PARALLEL=1`` (and clear numba's cache, whose index does not record
the flag).  When it is on, ``OMP_WAIT_POLICY=PASSIVE`` is set (unless the user set it) so that
numba's OpenMP threads sleep instead of spinning between loops.
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
