"""Tensor methods, part 3: shape and indexing — reshape, permute, squeeze, expand, ``t[idx]``.

They move elements around without computing, so each gradient moves them back (see
``ops/shape.py`` and ``ops/indexing.py``).  Sizes may be given as ``reshape(2, 3)`` or
``reshape((2, 3))``, as in torch.
"""
import numpy as np

from .ops.indexing import GetItem
from .ops.reduction import normalize_dims
from .ops.shape import Expand, Permute, Reshape


def index_arrays(idx):
    """An index with the Tensors inside it replaced by their arrays (lists become arrays)."""
    if hasattr(idx, "grad_fn"):  # a Tensor
        return idx.data
    if isinstance(idx, tuple):
        return tuple(i.data if hasattr(i, "grad_fn") else i for i in idx)
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


class ShapeMethods:
    """Reshaping, reordering, broadcasting and indexing."""

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def reshape(self, *shape):
        return Reshape.apply(self, _shape_args(shape))

    def view(self, *shape):
        return self.reshape(*shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = _shape_args(dims)
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
        shape = _shape_args(shape)
        lead = len(shape) - self.ndim
        target = tuple(self.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, target)
        except ValueError:
            raise ValueError(f"expand: shape {self.shape} cannot be expanded to {shape}") from None
        return Expand.apply(self, target)

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, idx):
        return GetItem.apply(self, index_arrays(idx))
