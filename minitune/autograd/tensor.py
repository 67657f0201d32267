"""``Tensor``: an ``np.ndarray`` plus what reverse-mode autograd needs.

``data`` is the array (float32 by default, float64 allowed, int64 for labels, bool for
masks); ``grad`` is a Tensor of the same shape once a backward pass reached this leaf;
``grad_fn`` is the ``Node`` that produced a non-leaf tensor.  Every differentiable method
below is one ``Function`` from ``ops/``, so the math lives there, next to its gradient.
"""
import numbers

import numpy as np

from .dtypes import _TORCH_NAMES, bool_, check_dtype, float32, float64, int32, int64, promote_types, to_array
from .engine import run_backward
from .grad_mode import is_grad_enabled
from .ops.arithmetic import Add, Div, Maximum, Mul, Neg, Pow, Sub, Where
from .ops.elementwise import Abs, Cast, Clamp, Clone, Exp, Log, ReLU, Sigmoid, Sqrt, Tanh
from .ops.indexing import Cat, GetItem, Stack
from .ops.matmul import MatMul
from .ops.reduction import Amax, MaxDim, Mean, Sum, normalize_dims
from .ops.shape import Expand, Permute, Reshape

def _operand(other, like):
    """``other`` as an array for a binary op with tensor ``like`` (scalars take like's dtype)."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, numbers.Number) and not isinstance(other, np.ndarray):
        if like.data.dtype.kind == "f":
            return Tensor(np.asarray(other, dtype=like.data.dtype))
        if isinstance(other, (bool, np.bool_)) or (isinstance(other, numbers.Integral)):
            return Tensor(np.asarray(other, dtype=like.data.dtype if like.data.dtype != bool_ else int64))
        return Tensor(np.asarray(other, dtype=float32))
    if isinstance(other, (list, tuple, np.ndarray)):
        return Tensor(to_array(other))
    raise TypeError(f"unsupported operand type {type(other).__name__}; expected a Tensor or a number")


def _binary(fn, a, b, name):
    try:
        np.broadcast_shapes(a.data.shape, b.data.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {tuple(a.data.shape)} and {tuple(b.data.shape)} cannot be broadcast together") from None
    if a.data.dtype != b.data.dtype:
        dt = promote_types(a.data.dtype, b.data.dtype, a.data.ndim == 0, b.data.ndim == 0)
        a = a if a.data.dtype == dt else a.to(dt)
        b = b if b.data.dtype == dt else b.to(dt)
    return fn.apply(a, b)


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = to_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array):
        t = cls.__new__(cls)
        t.data = np.asarray(array)
        t.grad = None
        t.grad_fn = None
        t.requires_grad = False
        return t

    # ---- attributes -------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to a Python scalar")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is ambiguous")
        return bool(self.data.reshape(()).item())

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    # ---- autograd ---------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating point tensors can require gradients, this one is {self.data.dtype}")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retained = self
        elif not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        return self

    def detach(self):
        """The same data, cut from the graph (shares memory, as in torch)."""
        return Tensor._wrap(self.data)

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate dL/dleaf into every leaf's ``.grad``, with L = this tensor (or ⟨gradient, this⟩)."""
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this tensor has "
                                   f"shape {self.shape}, so pass gradient= of the same shape")
            g = np.ones(self.data.shape, dtype=self.data.dtype)
        else:
            g = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.data.dtype)
            if g.shape != self.data.shape:
                raise ValueError(f"gradient has shape {g.shape}, expected the output's shape {self.shape}")
        run_backward(self, g, retain_graph=retain_graph)

    # ---- conversion ---------------------------------------------------------------------------
    def to(self, dtype):
        dtype = check_dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if self.requires_grad and dtype.kind == "f":
            return Cast.apply(self, dtype)
        return Tensor._wrap(self.data.astype(dtype))

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def bool(self):
        return self.to(bool_)

    def type(self, dtype):
        return self.to(dtype)

    def clone(self):
        return Clone.apply(self)

    def contiguous(self):
        return self

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

    def __matmul__(self, other):
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
        o = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, o))

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
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _binary(Maximum, self, _operand(other, self), "maximum")

    # ---- reductions ---------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        t = self if self.dtype.kind == "f" else self.to(int64)
        return Sum.apply(t, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        if self.dtype.kind != "f":
            raise TypeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got {self.dtype}")
        return Mean.apply(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return Amax.apply(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        """``max()`` → the largest value; ``max(dim)`` → (values, indices), as in torch."""
        if dim is None:
            return Amax.apply(self, None, False)
        dim = normalize_dims(dim, self.ndim)[0]
        idx = np.argmax(self.data, axis=dim)
        return MaxResult(MaxDim.apply(self, dim, keepdim), Tensor._wrap(idx if not keepdim else np.expand_dims(idx, dim)))

    def min(self, dim=None, keepdim=False):
        if dim is None:
            return -Amax.apply(-self, None, False)
        dim = normalize_dims(dim, self.ndim)[0]
        idx = np.argmin(self.data, axis=dim)
        return MaxResult(MaxDim.apply(self, dim, keepdim, False), Tensor._wrap(idx if not keepdim else np.expand_dims(idx, dim)))

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(np.asarray(np.argmax(self.data), dtype=np.int64))
        return Tensor._wrap(np.argmax(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(np.asarray(np.argmin(self.data), dtype=np.int64))
        return Tensor._wrap(np.argmin(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    # ---- shape ------------------------------------------------------------------------------
    @staticmethod
    def _shape_args(shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            return tuple(shape[0])
        return tuple(int(s) for s in shape)

    def reshape(self, *shape):
        return Reshape.apply(self, self._shape_args(shape))

    def view(self, *shape):
        return self.reshape(*shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = self._shape_args(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of the {self.ndim} axes of shape {self.shape}")
        return Permute.apply(self, tuple(d % self.ndim for d in dims))

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return Permute.apply(self, tuple(dims))

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, but got shape {self.shape}")
        return self.T

    def unsqueeze(self, dim):
        dim = dim if dim >= 0 else dim + self.ndim + 1
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = normalize_dims(dim, self.ndim)
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1)))

    def expand(self, *shape):
        shape = self._shape_args(shape)
        lead = len(shape) - self.ndim
        target = tuple(self.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, target)
        except ValueError:
            raise ValueError(f"expand: shape {self.shape} cannot be expanded to {shape}") from None
        return Expand.apply(self, target)

    def expand_as(self, other):
        return self.expand(other.shape)

    # ---- indexing ---------------------------------------------------------------------------
    def __getitem__(self, idx):
        return GetItem.apply(self, _index(idx))

    def __setitem__(self, idx, value):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        self.data[_index(idx)] = value.data if isinstance(value, Tensor) else value

    # ---- in-place on data (used by init and optimizers, under no_grad) ----------------------------
    def _check_inplace(self):
        if self.requires_grad and is_grad_enabled() and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")

    def zero_(self):
        self._check_inplace()
        self.data[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace()
        self.data[...] = value
        return self

    def copy_(self, src):
        self._check_inplace()
        src = src.data if isinstance(src, Tensor) else np.asarray(src)
        self.data[...] = np.broadcast_to(src, self.data.shape)
        return self

    def __repr__(self):
        d = self.data
        integral = d.dtype.kind == "f" and (d.size == 0 or bool(np.all(np.isfinite(d) & (d == np.round(d)))))
        body = np.array2string(d, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec" if d.dtype.kind != "f" or integral else "fixed")
        extras = []
        if self.data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=minitune.{_TORCH_NAMES[self.data.dtype]}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


class MaxResult(tuple):
    """(values, indices) of ``max(dim)``, like torch's named tuple."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _index(idx):
    """Turn Tensors inside an index into arrays."""
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in idx)
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx
