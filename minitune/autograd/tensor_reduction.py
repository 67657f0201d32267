"""Tensor methods, part 2: reductions — sum, mean, amax/amin, max/min, argmax/argmin, any/all.

``dim`` is None (every axis), an int, or a sequence of ints; ``dim=()`` reduces every axis,
as in torch.  Two ways to take a maximum, with torch's two gradient rules:

* ``amax(dim)`` and ``max()`` without ``dim``: ties share the gradient evenly (``Amax``);
* ``max(dim)`` → (values, indices): the gradient goes to the one index returned (``MaxDim``).

``min`` is the same with ``largest=False``; ``max(other)`` / ``min(other)`` with a tensor are
the elementwise ``maximum`` / ``minimum``.
"""
import numpy as np

from .ops.reduction import Amax, MaxDim, Mean, Sum, normalize_dims


def _wrap(array):
    from .tensor import Tensor  # tensor.py imports this file to build the class: look it up at call time
    return Tensor._wrap(array)


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


class ReductionMethods:
    """Reductions over ``dim`` with ``keepdim``."""

    def sum(self, dim=None, keepdim=False):
        t = self if self.dtype.kind == "f" else self.to(np.int64)
        return Sum.apply(t, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        if self.dtype.kind != "f":
            raise TypeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got {self.dtype}")
        return Mean.apply(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return Amax.apply(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return Amax.apply(self, dim, keepdim, False)

    def _extreme(self, dim, keepdim, largest, other):
        """max/min: of everything (``dim`` None), along ``dim`` with the index, or elementwise with ``other``."""
        if other is not None or (dim is not None and not isinstance(dim, (int, np.integer))):
            other = dim if other is None else other
            return self.maximum(other) if largest else self.minimum(other)
        if dim is None:
            return Amax.apply(self, None, False, largest)
        dim = normalize_dims(dim, self.ndim)[0] if self.ndim else None
        if dim is None:  # a 0-d tensor: the value is its own maximum, at index 0
            return MaxResult(self.clone(), _wrap(np.zeros((), dtype=np.int64)))
        # the index is computed once, here, and given to MaxDim, which gathers the values with it
        idx = np.expand_dims((np.argmax if largest else np.argmin)(self.data, axis=dim), dim)
        return MaxResult(MaxDim.apply(self, idx, dim, keepdim), _wrap(idx if keepdim else np.squeeze(idx, dim)))

    def max(self, dim=None, keepdim=False, other=None):
        """``max()`` → the largest value; ``max(dim)`` → (values, indices); ``max(other)`` → elementwise maximum."""
        return self._extreme(dim, keepdim, True, other)

    def min(self, dim=None, keepdim=False, other=None):
        """``min()`` → the smallest value; ``min(dim)`` → (values, indices); ``min(other)`` → elementwise minimum."""
        return self._extreme(dim, keepdim, False, other)

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return _wrap(np.asarray(np.argmax(self.data), dtype=np.int64))
        return _wrap(np.argmax(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return _wrap(np.asarray(np.argmin(self.data), dtype=np.int64))
        return _wrap(np.argmin(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    def any(self, dim=None, keepdim=False):
        return _wrap(np.any(self.data, axis=None if dim is None else normalize_dims(dim, self.ndim), keepdims=keepdim))

    def all(self, dim=None, keepdim=False):
        return _wrap(np.all(self.data, axis=None if dim is None else normalize_dims(dim, self.ndim), keepdims=keepdim))
