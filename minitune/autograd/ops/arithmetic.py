"""Broadcasting binary arithmetic and selection.

Every op here broadcasts its inputs as numpy does; ``backward`` returns gradients in the
broadcast shape and the engine reduces each to its input's shape with ``sum_to``.
Notation: y is the output, g = dL/dy the upstream gradient.
"""
import numpy as np

from ..function import Function


class Add(Function):
    """y = a + b;   dL/da = g,   dL/db = g"""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

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

    As in torch, dL/db at a = 0 is taken as 0 where it would be 0 · ln 0 (only b > 0 counts there).
    """

    @staticmethod
    def forward(ctx, a, b):
        y = np.power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A1: implement Pow.backward (dL/da = g*b*a^(b-1), dL/db = g*y*ln a)
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g * b * np.power(a, b - 1)
            ga = np.where(b == 0, 0.0, ga).astype(y.dtype)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = np.where(a == 0, 0.0, g * y * np.log(np.where(a == 0, 1.0, a))).astype(y.dtype)
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
    """y = max(a, b) elementwise;   dL/da = g·[a > b] + g/2·[a = b],   dL/db = g·[b > a] + g/2·[a = b]

    Ties split the gradient in half, as torch does.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        wa = (a > b) + 0.5 * (a == b)
        return (g * wa).astype(g.dtype), (g * (1.0 - wa)).astype(g.dtype)


class Where(Function):
    """y = cond ? a : b;   dL/da = g·[cond],   dL/db = g·[¬cond]   (cond gets no gradient)"""

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = np.asarray(cond, dtype=bool)
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        zero = np.zeros((), dtype=g.dtype)
        return None, np.where(ctx.cond, g, zero), np.where(ctx.cond, zero, g)
