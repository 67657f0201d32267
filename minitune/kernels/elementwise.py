r"""ReLU forward and backward, the element-wise kernels of every ResNet block (``F.relu``).

    y = max(x, 0)                       forward (NaN stays NaN, as ``torch.relu``)
    dL/dx = 0 where y ≤ 0, else g       backward (torch's ``threshold_backward``: a NaN in y passes g)

Read the numpy twins first.  The fast kernels are numba loops written as selects (v = x, then
v = 0 where x < 0; the backward in one pass instead of numpy's three — compare, negate,
multiply), each run on the array cut into parts, one per thread (threads.py): element-wise
work is bound by memory bandwidth, which one core alone does not saturate.  The forward keeps
−0.0 as torch does (``np.maximum(-0.0, 0)`` gives +0.0) and has an in-place form for
``F.relu(x, inplace=True)``: one array, so that LLVM needs no alias check to vectorize it
(measured, batch-8 stem, 2 threads: in place 2.6 ms with np.maximum, 0.9 with this loop; torch's
``clamp_min_`` 0.9-1.0).  The zero is passed in x's dtype: an integer 0 would make v a float64.
"""
import numpy as np

from .jit import NO_JIT, njit
from .threads import run_parts, split

# Arrays are cut into parts (one per thread) of at least this many values each: handing a part to
# another thread costs ~75 µs on a 2-core VM (threads.py), as much as a ReLU of 800K values saves
# (ResNet-18's layer2 at batch 8: 0.22 ms on one thread, 0.23 on two; layer1, 1.6M: 0.45 → 0.33).
MIN_PART_VALUES = 524288


def relu_forward_reference(x):
    """numpy twin: y = max(x, 0) (0 where x < 0, else x: NaN and −0.0 pass, as in torch)."""
    return np.where(x < 0, np.zeros((), x.dtype), x)


def relu_backward_reference(grad_out, y):
    """numpy twin: dL/dx = 0 where y ≤ 0, else grad_out."""
    return np.where(y <= 0, np.zeros((), grad_out.dtype), grad_out)


def _flat_parts(a):
    return split(a.size, work=a.size, min_part_work=MIN_PART_VALUES)


def relu_forward(x, out=None):
    """y = max(x, 0), a fresh array of x's shape and dtype or ``out`` (may be x: in place); the numpy
    twin with ``MINITUNE_NO_JIT=1``."""
    if NO_JIT or x.dtype.kind != "f" or not x.flags.c_contiguous or (
            out is not None and (not out.flags.c_contiguous or (out is not x and np.may_share_memory(x, out)))):
        y = relu_forward_reference(x)
        if out is None:
            return y
        out[...] = y
        return out
    zero = np.zeros((), x.dtype)[()]
    xf = x.reshape(-1)
    if out is x:
        run_parts(lambda lo, hi: _relu_in_place(xf, zero, lo, hi), _flat_parts(x))
        return x
    y = np.empty_like(x) if out is None else out
    yf = y.reshape(-1)
    run_parts(lambda lo, hi: _relu_forward(xf, yf, zero, lo, hi), _flat_parts(x))
    return y


@njit()
def _relu_forward(x, y, zero, lo, hi):
    """y[i] = 0 if x[i] < 0 else x[i], for lo ≤ i < hi (flat arrays)."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        v = x[i]
        if v < 0:
            v = zero
        y[i] = v


@njit()
def _relu_in_place(x, zero, lo, hi):
    """x[i] = 0 where x[i] < 0, for lo ≤ i < hi: ``_relu_forward`` with y = x, as one array."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        v = x[i]
        if v < 0:
            v = zero
        x[i] = v


@njit()
def _relu_backward(g, y, out, zero, lo, hi):
    """out[i] = 0 if y[i] ≤ 0 else g[i], for lo ≤ i < hi (flat arrays).

    Written as a select (v = g, then v = 0 where y ≤ 0) over unsigned indices, which LLVM turns
    into vector blends; an if/else with a store in each branch stayed a branch (12x slower on
    random signs)."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        v = g[i]
        if y[i] <= 0:
            v = zero
        out[i] = v


def relu_backward(grad_out, y, out=None):
    """dL/dx for upstream ``grad_out`` and the forward's output ``y`` (same shape), a fresh array, or
    written into ``out`` (may be grad_out: in place)."""
    if NO_JIT or not (grad_out.flags.c_contiguous and y.flags.c_contiguous) or grad_out.shape != y.shape \
            or grad_out.dtype.kind != "f" or (out is not None and out is not grad_out):
        dx = relu_backward_reference(grad_out, y)
        if out is None:
            return dx
        out[...] = dx
        return out
    zero = np.zeros((), grad_out.dtype)[()]
    gf, yf = grad_out.reshape(-1), y.reshape(-1)
    if out is grad_out:
        run_parts(lambda lo, hi: _relu_backward_in_place(gf, yf, zero, lo, hi), _flat_parts(grad_out))
        return out
    out = np.empty_like(grad_out)
    of = out.reshape(-1)
    run_parts(lambda lo, hi: _relu_backward(gf, yf, of, zero, lo, hi), _flat_parts(out))
    return out


@njit()
def _relu_backward_in_place(g, y, zero, lo, hi):
    """g[i] = 0 where y[i] ≤ 0, for lo ≤ i < hi: ``_relu_backward`` with out = g."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        v = g[i]
        if y[i] <= 0:
            v = zero
        g[i] = v


def add(a, b, out=None):
    """a + b as ``np.add(a, b, out=out)``, the array cut into parts, one per thread, when a and b are
    contiguous float arrays of one shape and dtype (and ``out``, when given, is a or b or apart from
    both); numpy's np.add itself otherwise.  Installed for autograd's Add and gradient sums by
    ``minitune.nn.functional`` (autograd/array_functions.py).  ResNet-18's residual adds at batch 8,
    2 threads: a training step 408 → 402 ms, inference 130.5 → 129.2 ms (medians of 21, alternating)."""
    if (NO_JIT or not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or a.shape != b.shape
            or a.dtype != b.dtype or a.dtype.kind != "f" or not (a.flags.c_contiguous and b.flags.c_contiguous)
            or a.size < 2 * MIN_PART_VALUES):
        return np.add(a, b, out=out)
    if out is None:
        out = np.empty_like(a)
    elif not (out.flags.c_contiguous and out.shape == a.shape and out.dtype == a.dtype) or (
            out is not a and out is not b and (np.may_share_memory(out, a) or np.may_share_memory(out, b))):
        return np.add(a, b, out=out)
    af, bf, of = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    run_parts(lambda lo, hi: np.add(af[lo:hi], bf[lo:hi], out=of[lo:hi]), _flat_parts(out))
    return out
