"""The free functions of the ``minitune`` namespace (``minitune.cat``, ``minitune.exp``, …), as
torch's ``torch.cat``, ``torch.exp``: each one applies a ``Function`` from ``ops/`` or calls
the Tensor method of the same name.  (``function.py`` beside this file holds the base class.)"""
import builtins

import numpy as np

from .dtypes import promote_types, to_array
from .ops.arithmetic import Maximum, Minimum, Where
from .ops.indexing import Cat, Stack
from .tensor import Tensor
from .tensor_arithmetic import _binary, _operand


def _tensors(seq, name):
    seq = list(seq)
    if not seq:
        raise ValueError(f"{name}() expects a non-empty sequence of tensors")
    for t in seq:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}() expects Tensors, got {type(t).__name__}")
    dt = np.result_type(*[t.dtype for t in seq])
    return [t if t.dtype == dt else t.to(dt) for t in seq]


def cat(tensors, dim=0):
    """Concatenate along an existing axis ``dim``."""
    ts = _tensors(tensors, "cat")
    ref = ts[0].shape
    d = dim % builtins.max(len(ref), 1)
    for t in ts[1:]:
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref)) if i != d):
            raise ValueError(f"cat: sizes must match except in dimension {dim}; got {ref} and {t.shape}")
    return Cat.apply(d, *ts)


def stack(tensors, dim=0):
    """Stack equal-shaped tensors along a new axis ``dim``."""
    ts = _tensors(tensors, "stack")
    for t in ts[1:]:
        if t.shape != ts[0].shape:
            raise ValueError(f"stack expects each tensor to be equal size, but got {ts[0].shape} and {t.shape}")
    return Stack.apply(dim % (ts[0].ndim + 1), *ts)


def _scalar_tensor(value):
    """A Python number as a 0-d tensor with torch's inference: float → float32, int → int64, bool → bool."""
    return Tensor._wrap(to_array(value))


def where(condition, input, other):  # noqa: A002 - torch's names
    """``condition ? input : other`` elementwise, with broadcasting; ``input``/``other`` may be numbers."""
    x = input if isinstance(input, Tensor) else None
    y = other if isinstance(other, Tensor) else None
    like = x if x is not None else y
    if like is None:
        a, b = _scalar_tensor(input), _scalar_tensor(other)
    else:
        a, b = _operand(input, like), _operand(other, like)
    if a.dtype != b.dtype:
        dt = promote_types(a.dtype, b.dtype, a.ndim == 0, b.ndim == 0)
        a, b = a.to(dt), b.to(dt)
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != bool:
        raise TypeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype}")
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast together") from None
    return Where.apply(cond, a, b)


def maximum(input, other):  # noqa: A002
    return _binary(Maximum, input, _operand(other, input), "maximum")


def minimum(input, other):  # noqa: A002
    return _binary(Minimum, input, _operand(other, input), "minimum")


def matmul(input, other):  # noqa: A002
    return input @ other


def exp(t):
    return t.exp()


def log(t):
    return t.log()


def sqrt(t):
    return t.sqrt()


def abs(t):  # noqa: A001
    return t.abs()


def relu(t):
    return t.relu()


def sigmoid(t):
    return t.sigmoid()


def tanh(t):
    return t.tanh()


def clamp(t, min=None, max=None):  # noqa: A002
    return t.clamp(min, max)


clip = clamp


def sum(t, dim=None, keepdim=False):  # noqa: A001
    return t.sum(dim, keepdim)


def mean(t, dim=None, keepdim=False):
    return t.mean(dim, keepdim)


def amax(t, dim=None, keepdim=False):
    return t.amax(dim, keepdim)


def amin(t, dim=None, keepdim=False):
    return t.amin(dim, keepdim)


def max(t, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """``max(t)``, ``max(t, dim)`` → (values, indices), or ``max(t, other)`` → elementwise maximum."""
    return t.max(dim, keepdim, other)


def min(t, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """``min(t)``, ``min(t, dim)`` → (values, indices), or ``min(t, other)`` → elementwise minimum."""
    return t.min(dim, keepdim, other)


def argmax(t, dim=None, keepdim=False):
    return t.argmax(dim, keepdim)


def argmin(t, dim=None, keepdim=False):
    return t.argmin(dim, keepdim)


def reshape(t, shape):
    return t.reshape(shape)


def flatten(t, start_dim=0, end_dim=-1):
    return t.flatten(start_dim, end_dim)


def transpose(t, dim0, dim1):
    return t.transpose(dim0, dim1)


def permute(t, dims):
    return t.permute(dims)


def unsqueeze(t, dim):
    return t.unsqueeze(dim)


def squeeze(t, dim=None):
    return t.squeeze(dim)


def is_tensor(obj):
    return isinstance(obj, Tensor)
