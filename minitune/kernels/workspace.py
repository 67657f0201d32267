"""Reusable scratch arrays for the convolution kernels (im2col columns, Winograd tiles).

The unfolded columns and the Winograd tile arrays are the largest temporaries of a network
(7 MB per sample for a 3×3 layer1 convolution of ResNet-18).  A fresh array costs a page fault
per 4 KiB page on every call; a workspace array is allocated once per slot and size and
reused by every convolution, forward and backward.  Its contents are overwritten by the next
convolution: a kernel never returns a workspace array (or a view of one) to its caller.

Slots are per thread (``threading.local``), so two threads running convolutions never share
one; a kernel that needs two arrays alive at once asks for two slot names.

The same page-fault cost hits every *fresh* large array (activations, gradients): glibc's
malloc serves blocks above 32 MiB with a new ``mmap`` and unmaps them on ``free``, so the
next training step faults every page in again (a batch-32 ResNet-18 step has a dozen such
arrays; measured: step 4.0 → 3.4 s CPU time with freed memory kept).  ``keep_freed_memory``
(called when ``minitune.kernels`` is imported, on glibc only; ``MINITUNE_KEEP_FREED_MEMORY=0``
turns it off) tells malloc to serve large blocks from its heap and to keep freed memory for
reuse instead of returning it to the system: the process's resident memory then stays at its
peak rather than shrinking between steps.
"""
import ctypes
import os
import threading

import numpy as np

_workspace = threading.local()


def scratch(shape, dtype, slot="columns"):
    """A reusable array of ``shape`` and ``dtype`` from workspace ``slot``, grown on demand."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    key = f"{slot}_{dtype.name}"
    buf = getattr(_workspace, key, None)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        setattr(_workspace, key, buf)
    return buf[:size].reshape(shape)


def workspace_arrays():
    """Every workspace array of the calling thread (tests check that no result aliases one)."""
    return list(vars(_workspace).values())


def clear_scratch():
    """Free the calling thread's workspace (it is re-created on the next convolution)."""
    vars(_workspace).clear()


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory():
    """mallopt: no mmap for large blocks, no trimming of the heap; False where glibc is absent or it is off."""
    if os.environ.get("MINITUNE_KEEP_FREED_MEMORY", "1") in ("0", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to tune
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 ** 31 - 1))
