"""Indexing and joining: ``a[idx]``, ``a[idx] = v``, ``cat``, ``stack``.

a[idx] reads elements; its gradient writes g back to the positions read, *adding* where an
index repeats (a[[0, 0]] uses a[0] twice, so dL/da[0] = g[0] + g[1]): ``np.add.at``.
"""
import numpy as np

from ..function import Function


class GetItem(Function):
    """y = a[idx];   dL/da = zeros_like(a) with g scatter-added at idx (repeats accumulate)"""

    @staticmethod
    def forward(ctx, a, idx):
        ctx.shape, ctx.idx = a.shape, idx
        return np.array(a[idx], copy=True)

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(out, ctx.idx, g)
        return out, None


class SetItem(Function):
    """y = a with y[idx] = v (``a[idx] = v`` recorded in the graph, torch's ``CopySlices``);
    dL/da = g with g[idx] set to 0 (those values were overwritten),   dL/dv = g[idx]

    ``v`` may be a number, an array or a tensor that broadcasts to ``a[idx]``; the engine sums
    dL/dv back to v's shape.  (With an advanced index that repeats a position the last write
    wins in y, but dL/dv counts every copy.)
    """

    @staticmethod
    def forward(ctx, a, idx, v):
        ctx.idx = idx
        out = np.array(a, copy=True)
        out[idx] = v
        return out

    @staticmethod
    def backward(ctx, g):
        ga = None
        if ctx.needs_input_grad[0]:
            ga = np.array(g, copy=True)
            ga[ctx.idx] = 0
        gv = np.array(g[ctx.idx], copy=True) if ctx.needs_input_grad[2] else None
        return ga, None, gv


class Cat(Function):
    """y = [a₁; a₂; …] along ``dim``;   dL/daₖ = the k-th slice of g along ``dim``"""

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.splits = [int(n) for n in np.cumsum([a.shape[dim] for a in arrays])[:-1]]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (None, *np.split(g, ctx.splits, axis=ctx.dim))


class Stack(Function):
    """y = stack(a₁, a₂, …) on a new axis ``dim``;   dL/daₖ = g[…, k, …] (index k on axis ``dim``)"""

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (None, *[np.take(g, k, axis=ctx.dim) for k in range(g.shape[ctx.dim])])
