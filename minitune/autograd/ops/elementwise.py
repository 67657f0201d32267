"""Unary elementwise functions: y = f(a), so dL/da = g · f'(a)."""
import numpy as np

from ..function import Function


class Exp(Function):
    """y = eᵃ;   dL/da = g · y"""

    @staticmethod
    def forward(ctx, a):
        y = np.exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Exp.backward (dL/da = g*y)
        (y,) = ctx.saved_tensors
        return g * y
        # END SOLUTION


class Log(Function):
    """y = ln a;   dL/da = g / a"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Log.backward (dL/da = g/a)
        (a,) = ctx.saved_tensors
        return g / a
        # END SOLUTION


class Sqrt(Function):
    """y = √a;   dL/da = g / (2y)"""

    @staticmethod
    def forward(ctx, a):
        y = np.sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Sqrt.backward (dL/da = g/(2y))
        (y,) = ctx.saved_tensors
        return g / (2 * y)
        # END SOLUTION


class Abs(Function):
    """y = |a|;   dL/da = g · sign(a)   (sign(0) = 0, as in torch)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * np.sign(a)


class ReLU(Function):
    """y = max(a, 0);   dL/da = g · [¬(a ≤ 0)]

    The gradient at exactly 0 is 0 and a NaN input passes g on (NaN ≤ 0 is false), as torch's
    ``threshold_backward``; ¬(a ≤ 0) is read from y, which is ≤ 0 exactly where a is.
    """

    @staticmethod
    def forward(ctx, a):
        y = np.maximum(a, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * ~(y <= 0)


class Sigmoid(Function):
    """y = σ(a) = 1 / (1 + e⁻ᵃ);   dL/da = g · y · (1 − y)

    Computed in the stable two-branch form: 1 / (1 + e⁻ᵃ) for a ≥ 0 and eᵃ / (1 + eᵃ) for a < 0,
    so that e^(±a) never overflows and σ(a) keeps its relative precision down to the smallest
    float (σ(−17) in float32 is 4.1e−8, not 0 as ½(1 + tanh(a/2)) would give).
    """

    @staticmethod
    def forward(ctx, a):
        e = np.exp(-np.abs(a))  # e^(−|a|) ≤ 1
        y = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Sigmoid.backward (dL/da = g*y*(1-y))
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)
        # END SOLUTION


class Tanh(Function):
    """y = tanh a;   dL/da = g · (1 − y²)"""

    @staticmethod
    def forward(ctx, a):
        y = np.tanh(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Tanh.backward (dL/da = g*(1-y^2))
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)
        # END SOLUTION


class Clamp(Function):
    """y = min(max(a, lo), hi);   dL/da = g · [lo ≤ a ≤ hi]   (torch passes the gradient at the bounds)

    Tensor bounds receive a gradient too, as in torch's ``clamp_backward_min_max``:
    dL/dlo = g · [a < lo] · [lo < hi],   dL/dhi = g · [a > hi ∨ hi < lo]
    (when lo > hi, y = hi everywhere).  Number bounds get none.
    """

    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        y = a
        if lo is not None:
            y = np.maximum(y, lo)
        if hi is not None:
            y = np.minimum(y, hi)
        ctx.save_for_backward(a, lo, hi)
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved_tensors
        zero = np.zeros((), dtype=g.dtype)
        inside = np.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        glo = ghi = None
        if ctx.needs_input_grad[1]:
            below = (a < lo) & (lo < hi) if hi is not None else a < lo
            glo = np.where(below, g, zero)
        if ctx.needs_input_grad[2]:
            above = (a > hi) | (hi < lo) if lo is not None else a > hi
            ghi = np.where(above, g, zero)
        return np.where(inside, g, zero), glo, ghi


class Cast(Function):
    """y = a converted to ``dtype``;   dL/da = g converted back to a's dtype"""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype), None


class Clone(Function):
    """y = a (a copy);   dL/da = g"""

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g
