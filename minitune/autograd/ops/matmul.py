"""Matrix product with batch broadcasting, as ``torch.matmul``.

For 2-D a (n×k) and b (k×m): y = a b, yᵢⱼ = Σₖ aᵢₖ bₖⱼ, and
dL/da = g bᵀ,  dL/db = aᵀ g.
Batched inputs broadcast over the leading axes; the engine sums the gradient over the
batch axes an input was broadcast along.  A 1-D a is treated as a row (1×k) and a 1-D b
as a column (k×1); the added axis is removed from y and from the gradient.
"""
import numpy as np

from ..function import Function


def _t(x):
    return np.swapaxes(x, -1, -2)


class MatMul(Function):
    """y = a @ b;   dL/da = g @ bᵀ,   dL/db = aᵀ @ g"""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        ctx.save_for_backward(a2, b2)
        y = np.matmul(a2, b2)
        if b.ndim == 1:
            y = y[..., 0]
        if a.ndim == 1:
            y = y[..., 0, :] if b.ndim > 1 else y[..., 0]
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement MatMul.backward (dL/da = g @ b^T, dL/db = a^T @ g, 1-D cases included)
        a2, b2 = ctx.saved_tensors
        if len(ctx.b_shape) == 1:
            g = g[..., None]
        if len(ctx.a_shape) == 1:
            g = np.expand_dims(g, -2)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = np.matmul(g, _t(b2))
            if len(ctx.a_shape) == 1:
                ga = ga.reshape(-1, ctx.a_shape[0]).sum(axis=0)
        if ctx.needs_input_grad[1]:
            gb = np.matmul(_t(a2), g)
            if len(ctx.b_shape) == 1:
                gb = gb.reshape(-1, ctx.b_shape[0]).sum(axis=0)
        return ga, gb
        # END SOLUTION
