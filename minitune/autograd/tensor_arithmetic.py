"""Tensor methods, part 1: operators, comparisons and elementwise functions.

Binary operators follow torch's type promotion (``dtypes.promote_types``): a Python number
takes the tensor's dtype, a float tensor beats an integer one, and within one kind a 0-d
tensor gives way to a dimensioned one.  Each method applies one ``Function`` from ``ops/``.
"""
import numbers

import numpy as np

from .dtypes import bool_, float32, int64, promote_types, to_array
from .ops.arithmetic import Add, Div, Maximum, Minimum, Mul, Neg, Pow, Sub
from .ops.elementwise import Abs, Clamp, Exp, Log, ReLU, Sigmoid, Sqrt, Tanh


def _tensor_class():
    from .tensor import Tensor  # tensor.py imports this file to build the class: look it up at call time
    return Tensor


def _operand(other, like):
    """``other`` as a Tensor for a binary op with tensor ``like`` (scalars take like's dtype)."""
    Tensor = _tensor_class()
    if isinstance(other, Tensor):
        return other
    if isinstance(other, numbers.Number) and not isinstance(other, np.ndarray):
        if like.data.dtype.kind == "f":
            return Tensor._wrap(np.asarray(other, dtype=like.data.dtype))
        if isinstance(other, (bool, np.bool_)) or (isinstance(other, numbers.Integral)):
            return Tensor._wrap(np.asarray(other, dtype=like.data.dtype if like.data.dtype != bool_ else int64))
        return Tensor._wrap(np.asarray(other, dtype=float32))
    if isinstance(other, (list, tuple, np.ndarray)):
        return Tensor._wrap(to_array(other))
    raise TypeError(f"unsupported operand type {type(other).__name__}; expected a Tensor or a number")


def _binary(fn, a, b, name):
    """``fn.apply(a, b)`` after checking that the shapes broadcast and promoting to one dtype."""
    try:
        np.broadcast_shapes(a.data.shape, b.data.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {tuple(a.data.shape)} and {tuple(b.data.shape)} cannot be broadcast together") from None
    if a.data.dtype != b.data.dtype:
        dt = promote_types(a.data.dtype, b.data.dtype, a.data.ndim == 0, b.data.ndim == 0)
        a = a if a.data.dtype == dt else a.to(dt)
        b = b if b.data.dtype == dt else b.to(dt)
    return fn.apply(a, b)


class ArithmeticMethods:
    """Operators (+ − · / ** @, unary −, abs), comparisons and elementwise functions."""

    # ---- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other):
        return _binary(Add, self, _operand(other, self), "add")

    def __radd__(self, other):
        return _binary(Add, _operand(other, self), self, "add")

    def __sub__(self, other):
        return _binary(Sub, self, _operand(other, self), "sub")

    def __rsub__(self, other):
        return _binary(Sub, _operand(other, self), self, "sub")

    def __mul__(self, other):
        return _binary(Mul, self, _operand(other, self), "mul")

    def __rmul__(self, other):
        return _binary(Mul, _operand(other, self), self, "mul")

    def __truediv__(self, other):
        a, b = self, _operand(other, self)
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            a = a.float()
        return _binary(Div, a, b, "div")

    def __rtruediv__(self, other):
        a, b = _operand(other, self), self
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            b = b.float()
        return _binary(Div, a, b, "div")

    def __pow__(self, other):
        return _binary(Pow, self, _operand(other, self), "pow")

    def __rpow__(self, other):
        return _binary(Pow, _operand(other, self), self, "pow")

    def __neg__(self):
        return Neg.apply(self)

    def __abs__(self):
        return Abs.apply(self)

    def __matmul__(self, other):
        from .ops.matmul import MatMul  # here: the ops import tensor.py, which builds itself from this file (a cycle)
        other = _operand(other, self)
        if self.dtype != other.dtype:
            raise TypeError(f"matmul: both arguments must have the same dtype, got {self.dtype} and {other.dtype}")
        return MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return _operand(other, self).__matmul__(self)

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return self @ other

    def add(self, other):
        return self + other

    def sub(self, other):
        return self - other

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def neg(self):
        return -self

    # ---- comparisons (no gradient) ------------------------------------------------------------
    def _compare(self, other, op):
        o = other.data if isinstance(other, _tensor_class()) else other
        return _tensor_class()._wrap(op(self.data, o))

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    __hash__ = object.__hash__

    # ---- elementwise --------------------------------------------------------------------------
    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def abs(self):
        return Abs.apply(self)

    def relu(self):
        return ReLU.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def clamp(self, min=None, max=None):  # noqa: A002 - torch's argument names
        """min(max(self, min), max); tensor bounds broadcast and receive their gradient, as in torch."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        Tensor = _tensor_class()
        bounds = [b.to(self.dtype) if isinstance(b, Tensor) and b.dtype != self.dtype else b for b in (min, max)]
        shapes = [self.shape] + [b.shape for b in bounds if isinstance(b, Tensor)]
        try:
            out_shape = np.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"clamp: shapes {shapes} cannot be broadcast together") from None
        a = self if out_shape == self.shape else self.expand(out_shape)
        return Clamp.apply(a, *bounds)

    clip = clamp

    def maximum(self, other):
        return _binary(Maximum, self, _operand(other, self), "maximum")

    def minimum(self, other):
        return _binary(Minimum, self, _operand(other, self), "minimum")
