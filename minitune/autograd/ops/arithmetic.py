"""Broadcasting binary arithmetic and selection.

Every op here broadcasts its inputs as numpy does; ``backward`` returns gradients in the
broadcast shape and the engine reduces each to its input's shape with ``sum_to``.
Notation: y is the output, g = dL/dy the upstream gradient.
"""
import numpy as np

from .. import array_functions
from ..function import Function


class Add(Function):
    """y = a + b;   dL/da = g,   dL/db = g"""

    @staticmethod
    def forward(ctx, a, b):
        return array_functions.add(a, b)  # np.add, or the kernels' multi-threaded one (array_functions.py)

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Add.backward (dL/da = g, dL/db = g)
        return g, g
        # END SOLUTION


class Sub(Function):
    """y = a − b;   dL/da = g,   dL/db = −g"""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Sub.backward (dL/da = g, dL/db = -g)
        return g, -g
        # END SOLUTION


class Mul(Function):
    """y = a · b;   dL/da = g · b,   dL/db = g · a"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Mul.backward (dL/da = g*b, dL/db = g*a)
        a, b = ctx.saved_tensors
        return (g * b if ctx.needs_input_grad[0] else None,
                g * a if ctx.needs_input_grad[1] else None)
        # END SOLUTION


class Div(Function):
    """y = a / b;   dL/da = g / b,   dL/db = −g · a / b²"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Div.backward (dL/da = g/b, dL/db = -g*a/b^2)
        a, b = ctx.saved_tensors
        return (g / b if ctx.needs_input_grad[0] else None,
                -g * a / (b * b) if ctx.needs_input_grad[1] else None)
        # END SOLUTION


class Pow(Function):
    """y = a ** b;   dL/da = g · b · a^(b−1),   dL/db = g · y · ln a

    Masks, as torch's ``pow_backward``: dL/da = 0 where b = 0 (even at a = 0, where the formula
    says 0 · 0⁻¹); dL/db = 0 where a = 0 and b ≥ 0 (y · ln a would be 0 · (−∞)).  At a = 0 and
    b < 0 no mask applies: y = ∞, so dL/db = g · ∞ · (−∞) = −∞ for g > 0, and dL/da = ±∞.
    """

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore"):  # 0 ** (negative) = inf, as in torch, without numpy's warning
            y = np.power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Pow.backward (dL/da = g*b*a^(b-1), dL/db = g*y*ln a)
        a, b, y = ctx.saved_tensors
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                ga = np.where(b == 0, 0.0, g * b * np.power(a, b - 1)).astype(y.dtype)
            if ctx.needs_input_grad[1]:
                gb = np.where((a == 0) & (b >= 0), 0.0, g * y * np.log(a)).astype(y.dtype)
        return ga, gb
        # END SOLUTION


class Neg(Function):
    """y = −a;   dL/da = −g"""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Neg.backward (dL/da = -g)
        return -g
        # END SOLUTION


class Maximum(Function):
    """y = max(a, b) elementwise;   dL/da = g·[¬(a < b)]·(½ if a = b else 1),   dL/db = g·[¬(b < a)]·(½ if a = b else 1)

    Ties split the gradient in half, and where a comparison is false both ways (a NaN on either
    side) both inputs receive g: torch's rule.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share = np.where(a == b, g / 2, g)
        zero = np.zeros((), dtype=g.dtype)
        return np.where(a < b, zero, share).astype(g.dtype), np.where(b < a, zero, share).astype(g.dtype)


class Minimum(Function):
    """y = min(a, b) elementwise;   dL/da = g·[¬(a > b)]·(½ if a = b else 1),   dL/db = g·[¬(b > a)]·(½ if a = b else 1)

    The mirror of ``Maximum``, with the same tie and NaN rules (torch's).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share = np.where(a == b, g / 2, g)
        zero = np.zeros((), dtype=g.dtype)
        return np.where(a > b, zero, share).astype(g.dtype), np.where(b > a, zero, share).astype(g.dtype)


class Where(Function):
    """y = cond ? a : b;   dL/da = g·[cond],   dL/db = g·[¬cond]   (cond gets no gradient)"""

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = np.asarray(cond, dtype=bool)
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = np.zeros((), dtype=g.dtype)
        return None, np.where(cond, g, zero), np.where(cond, zero, g)
