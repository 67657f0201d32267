"""Reusable scratch arrays for the convolution kernels (im2col columns, Winograd tiles).

The unfolded columns and the Winograd tile arrays are the largest temporaries of a network
(7 MB per sample for a 3×3 layer1 convolution of ResNet-18).  A fresh array costs a page fault
per 4 KiB page on every call; a workspace array is allocated once per slot and size and
reused by every convolution, forward and backward.  Its contents are overwritten by the next
convolution: a kernel never returns a workspace array (or a view of one) to its caller.

Slots are per thread (``threading.local``), so two threads running convolutions never share
one; a kernel that needs two arrays alive at once asks for two slot names.
"""
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
