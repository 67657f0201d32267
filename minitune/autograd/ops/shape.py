"""Shape operations: they move elements around, so the gradient moves them back.

reshape: dL/da = reshape(g, a.shape);  permute by p: dL/da = permute(g, p⁻¹);
expand: dL/da = sum_to(g, a.shape) (an expanded element was used once per copy).
"""
import numpy as np

from ..function import Function


class Reshape(Function):
    """y = reshape(a, shape);   dL/da = reshape(g, a.shape)"""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return np.reshape(a, shape)
        except ValueError:
            raise ValueError(f"shape {tuple(shape)} is invalid for input of size {a.size} (shape {a.shape})") from None

    @staticmethod
    def backward(ctx, g):
        return np.reshape(g, ctx.shape), None


class Permute(Function):
    """y = a with axes reordered by p (yᵢ = a_{p(i)});   dL/da = permute(g, argsort(p))"""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = tuple(dims)
        return np.transpose(a, ctx.dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.dims)), None


class Expand(Function):
    """y = a broadcast to ``shape`` (a view, no copy);   dL/da = sum_to(g, a.shape)"""

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine reduces g to a's shape with sum_to
