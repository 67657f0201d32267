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
- Little for numba to compile: every function numba compiles costs ~0.05-0.15 s however short
  (a first forward is almost all compile), so a helper that only kernels call is ``inline=True``
  (below), and what numpy does as well outside is done there — flat views and shapes
  (numba's ``reshape``: ~0.3 s the first time), scratch arrays (``np.empty`` / ``np.full``), small
  tables — and in the kernels of an inference forward, a ``min``/``max`` of two ints is a conditional
  expression (numba compiles each builtin as a function of its own).  benchmarks/README.md has the numbers.
- No ``fastmath`` but one flag, where asked: ``reassociate=True`` lets LLVM reorder the additions
  of a sum (LLVM's ``reassoc``), so that a reduction runs on several vector accumulators.  Only
  the order of a sum changes, never an operation (no ``nnan``/``ninf``: NaN and inf propagate as
  written), and the batch-norm reductions that use it accumulate in float64.

Threads.  minitune runs its kernels on several cores by cutting their work into parts itself
(threads.py: a convolution's samples, a batch norm's channels, an element-wise op's array), one
part per thread, each part a serial kernel.  The outer loops are also written with ``prange``
(the iterations are independent: each writes its own rows or channels), but they are compiled
*serial* unless ``MINITUNE_NUMBA_PARALLEL=1`` is set: on the 2-core machines this project
targets, numba's parallel loops made a ResNet-18 step about 2x slower (benchmarks/README.md),
fighting OpenBLAS's spinning threads for the cores.  With many cores and large arrays, try
``MINITUNE_NUMBA_PARALLEL=1`` (and clear numba's cache, whose index does not record the flag);
it then sets ``OMP_WAIT_POLICY=PASSIVE`` (unless the user set it) so that numba's OpenMP
threads sleep instead of spinning between loops.
"""
import os

import numba

NO_JIT = os.environ.get("MINITUNE_NO_JIT", "") not in ("", "0")
PARALLEL = os.environ.get("MINITUNE_NUMBA_PARALLEL", "") not in ("", "0")
if PARALLEL:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def njit(parallel=False, reassociate=False, inline=False):
    """``numba.njit(cache=True)`` — the one way kernels are compiled.

    ``parallel=True`` marks a kernel whose ``prange`` loop may run on several threads; it
    does so only when ``MINITUNE_NUMBA_PARALLEL=1`` (see the module docstring).
    ``reassociate=True``: sums may be reordered (the module docstring).
    ``inline=True``: a helper that only other kernels call is pasted into each caller's numba IR
    (``inline="always"``) instead of being compiled as a function of its own — numba compiles each
    function through its whole pipeline, with a Python wrapper and a cache entry, ~0.05-0.15 s even
    for a two-line loop, which a first forward pays once per helper.  The caller's ``fastmath``
    flags then apply to the helper's lines: a ``reassociate`` helper is never inlined.
    """
    fastmath = {"reassoc"} if reassociate else False
    if inline and reassociate:
        raise ValueError("njit: an inlined helper takes its caller's fastmath flags; "
                         "reassociate=True needs a function of its own")
    return numba.njit(cache=True, parallel=parallel and PARALLEL, nogil=True, fastmath=fastmath,
                      inline="always" if inline else "never")


prange = numba.prange
