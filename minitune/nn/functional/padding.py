r"""``pad``: pad the last dimensions of a tensor, as ``torch.nn.functional.pad``.

``pad = (left, right, top, bottom, …)`` pads the last axis by (left, right), the one before by
(top, bottom), and so on.  Every mode is a gather: each output cell copies one input cell,

    y[..., i, j] = x[..., r(i), c(j)]        (constant mode: cells outside x are ``value``)

with r, c per mode — ``reflect``: mirror without repeating the edge (… 2 1 | 0 1 2 … n−1 | n−2 …),
``replicate``: repeat the edge, ``circular``: wrap around.  So the gradient is the scatter-add

    dL/dx[..., r(i), c(j)] += g[..., i, j]   (a cell copied several times collects every copy).

Negative pads crop, as in torch (constant mode).  ``Conv2d(padding_mode=…)`` and
``Conv2d(padding="same")`` with an even kernel use it.
"""
import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor

_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class Pad(Function):
    """y = x gathered at the padded index arrays (or ``value`` outside x);   dL/dx = scatter-add of g"""

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index, ctx.input_shape = index, x.shape
        inside = tuple(np.clip(i, 0, n - 1) for i, n in zip(index, x.shape[-len(index):]))
        lead = (slice(None),) * (x.ndim - len(index))
        grids = np.ix_(*inside)
        y = x[lead + grids]
        if any((i < 0).any() for i in index):  # constant mode: index −1 marks a padded cell
            inside_mask = np.ones(y.shape[-len(index):], dtype=bool)
            for k, i in enumerate(index):
                inside_mask = inside_mask & (i >= 0).reshape([-1 if a == k else 1 for a in range(len(index))])
            y = np.where(inside_mask, y, np.asarray(value, dtype=x.dtype))
        return np.ascontiguousarray(y.astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        k = len(ctx.index)
        gx = np.zeros(ctx.input_shape, dtype=g.dtype)
        keep = [i >= 0 for i in ctx.index]
        lead = (slice(None),) * (g.ndim - k)
        g = g[lead + np.ix_(*keep)]
        idx = np.ix_(*[i[m] for i, m in zip(ctx.index, keep)])
        np.add.at(gx, lead + idx, g)
        return gx, None, None


def _axis_index(n, before, after, mode, name):
    """The source index of each output cell along one axis (−1: a constant-padded cell)."""
    if mode == "constant":
        i = np.arange(-before, n + after)
        return np.where((i >= 0) & (i < n), i, -1)
    if mode == "reflect" and max(before, after) >= n:
        raise ValueError(f"{name}: reflect padding must be smaller than the dimension it pads, got pad "
                         f"({before}, {after}) for size {n}")
    if mode == "circular" and max(before, after) > n:
        raise ValueError(f"{name}: circular padding can be at most the size of the dimension, got pad "
                         f"({before}, {after}) for size {n}")
    if min(before, after) < 0:
        raise ValueError(f"{name}: negative padding is supported in constant mode only, got ({before}, {after})")
    return np.pad(np.arange(n), (before, after), mode=_NUMPY_MODES[mode])


def pad(input, pad, mode="constant", value=None):  # noqa: A002 - torch's names
    """Pad ``input``'s last ``len(pad) // 2`` axes; mode 'constant' (with ``value``, default 0), 'reflect',
    'replicate' or 'circular'."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most 2·ndim, got {len(pad)} for {input.ndim} dims")
    if mode not in ("constant", *_NUMPY_MODES):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    k = len(pad) // 2
    axes = range(input.ndim - k, input.ndim)
    pairs = [pad[2 * (input.ndim - 1 - a): 2 * (input.ndim - 1 - a) + 2] for a in axes]
    index = tuple(_axis_index(input.shape[a], b, e, mode, "pad") for a, (b, e) in zip(axes, pairs))
    return Pad.apply(input, index, 0 if value is None else value)
