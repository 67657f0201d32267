"""Reductions over some axes (``dim``), with or without ``keepdim``.

The gradient of a reduction is spread back over the reduced axes: first the reduced axes are
re-inserted as size 1 (``_expand_reduced``), then numpy broadcasting does the rest.
"""
import numpy as np

from ..function import Function


def normalize_dims(dim, ndim):
    """``dim`` (None, int or sequence, negatives allowed) as a sorted tuple of axes; None and () mean all."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out))) if ndim else ()


def _expand_reduced(g, shape, axes, keepdim):
    """Re-insert the reduced ``axes`` of ``shape`` into g as size-1 axes."""
    if keepdim:
        return g
    return np.reshape(g, [1 if i in axes else n for i, n in enumerate(shape)])


class Sum(Function):
    """y = Σ_{dims} a;   dL/da = g broadcast back over the summed axes"""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        axes = normalize_dims(dim, a.ndim)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.asarray(a.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        g = _expand_reduced(g, ctx.shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(g, ctx.shape).copy(), None, None


class Mean(Function):
    """y = (1/n) Σ_{dims} a, n = number of reduced elements;   dL/da = g / n broadcast back"""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        axes = normalize_dims(dim, a.ndim)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        return np.asarray(a.mean(axis=axes, keepdims=keepdim), dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        g = _expand_reduced(g, ctx.shape, ctx.axes, ctx.keepdim)
        return (np.broadcast_to(g, ctx.shape) / ctx.n).astype(g.dtype), None, None


class Amax(Function):
    """y = max_{dims} a;   dL/da = g · [a = y] / (number of ties)

    Ties share the gradient evenly: torch's rule for ``amax`` and for ``max()`` without ``dim``.
    With ``largest=False`` the same for the minimum (``amin``, ``min()``).
    """

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, largest=True):
        axes = normalize_dims(dim, a.ndim)
        if any(a.shape[i] == 0 for i in axes):
            raise ValueError(f"amax/amin: cannot reduce over an empty dimension of shape {a.shape}")
        y = np.asarray(a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True))
        mask = a == y
        ctx.save_for_backward(mask / mask.sum(axis=axes, keepdims=True))
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return y if keepdim else np.asarray(y.reshape([n for i, n in enumerate(a.shape) if i not in axes]))

    @staticmethod
    def backward(ctx, g):
        (weights,) = ctx.saved_tensors
        g = _expand_reduced(g, ctx.shape, ctx.axes, ctx.keepdim)
        return (g * weights).astype(g.dtype), None, None, None


class MaxDim(Function):
    """values = a at ``idx`` along ``dim``;   dL/da = g at that index, 0 elsewhere

    ``Tensor.max(dim)`` and ``Tensor.min(dim)`` both come here: the caller computes the arg-max
    (or arg-min) ``idx`` once (keepdim-shaped), returns it as the indices, and gives it to this op,
    which gathers the values with it.  Unlike ``amax``, the gradient goes to the one index returned.
    """

    @staticmethod
    def forward(ctx, a, idx, dim, keepdim=False):
        y = np.take_along_axis(a, idx, axis=dim)
        ctx.save_for_backward(idx)
        ctx.dim, ctx.shape, ctx.keepdim = dim, a.shape, keepdim
        return y if keepdim else np.squeeze(y, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.dim)
        out = np.zeros(ctx.shape, dtype=g.dtype)
        np.put_along_axis(out, idx, g, axis=ctx.dim)
        return out, None, None, None
