r"""ReLU forward and backward, the element-wise kernels of every ResNet block (``F.relu``).

    y = max(x, 0)                       forward (NaN stays NaN, as ``torch.relu``)
    dL/dx = 0 where y ≤ 0, else g       backward (torch's ``threshold_backward``: a NaN in y passes g)

Read the numpy twins first.  The fast kernels are the same numpy ufunc (forward) and a numba
loop (backward: one pass instead of numpy's three — compare, negate, multiply), each run on the
array cut into parts, one per thread (threads.py): element-wise work is bound by memory
bandwidth, which one core alone does not saturate.
"""
import numpy as np

from .jit import NO_JIT, njit
from .threads import run_parts, split

# Arrays are cut into parts (one per thread) of at least this many values each: handing a part to
# another thread costs ~75 µs on a 2-core VM (threads.py), as much as a ReLU of 800K values saves
# (ResNet-18's layer2 at batch 8: 0.22 ms on one thread, 0.23 on two; layer1, 1.6M: 0.45 → 0.33).
MIN_PART_VALUES = 524288


def relu_forward_reference(x):
    """numpy twin: y = max(x, 0)."""
    return np.maximum(x, 0)


def relu_backward_reference(grad_out, y):
    """numpy twin: dL/dx = 0 where y ≤ 0, else grad_out."""
    return np.where(y <= 0, np.zeros((), grad_out.dtype), grad_out)


def _flat_parts(a):
    return split(a.size, work=a.size, min_part_work=MIN_PART_VALUES)


def relu_forward(x, out=None):
    """y = max(x, 0), a fresh array of x's shape and dtype or ``out`` (may be x: in place); the numpy
    twin with ``MINITUNE_NO_JIT=1``."""
    if NO_JIT or not x.flags.c_contiguous or (out is not None and not out.flags.c_contiguous):
        return relu_forward_reference(x) if out is None else np.maximum(x, 0, out=out)
    y = np.empty_like(x) if out is None else out
    xf, yf = x.reshape(-1), y.reshape(-1)
    run_parts(lambda lo, hi: np.maximum(xf[lo:hi], 0, out=yf[lo:hi]), _flat_parts(x))
    return y


@njit()
def _relu_backward(g, y, out, lo, hi):
    """out[i] = 0 if y[i] ≤ 0 else g[i], for lo ≤ i < hi (flat arrays).

    Written as a select (v = g, then v = 0 where y ≤ 0) over unsigned indices, which LLVM turns
    into vector blends; an if/else with a store in each branch stayed a branch (12x slower on
    random signs)."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        v = g[i]
        if y[i] <= 0:
            v = 0
        out[i] = v


def relu_backward(grad_out, y):
    """dL/dx for upstream ``grad_out`` and the forward's output ``y`` (same shape), a fresh array."""
    if NO_JIT or not (grad_out.flags.c_contiguous and y.flags.c_contiguous) or grad_out.shape != y.shape \
            or grad_out.dtype.kind != "f":
        return relu_backward_reference(grad_out, y)
    out = np.empty_like(grad_out)
    gf, yf, of = grad_out.reshape(-1), y.reshape(-1), out.reshape(-1)
    run_parts(lambda lo, hi: _relu_backward(gf, yf, of, lo, hi), _flat_parts(out))
    return out

