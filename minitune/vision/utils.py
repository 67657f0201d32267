r"""``minitune.vision.utils.make_grid``: a batch of images laid out on one image, as torchvision's.

For B images of C×H×W, ``nrow`` per row and ``padding`` p:

    columns = min(nrow, B),  rows = ⌈B / columns⌉
    grid    = pad_value everywhere, of shape (3, rows·(H + p) + p, columns·(W + p) + p)
    image k → grid[:, r·(H + p) + p : … + H, c·(W + p) + p : … + W]   with r, c = divmod(k, columns)

A one-channel batch is repeated to 3 channels; a single image (C, H, W) or a batch of one is
returned as it is (after ``normalize``), as torchvision does.  ``normalize=True`` maps
``value_range`` (default: the min and max of the batch, or of each image with ``scale_each``) to
[0, 1] after clamping to it.
"""
import math

import numpy as np

from ..autograd.tensor import Tensor


def _scale(x, low, high):
    x = np.clip(x, low, high)
    return (x - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """A (3, H', W') Tensor showing the images of ``tensor`` (B, C, H, W), a list of (C, H, W), or one image."""
    if isinstance(tensor, (list, tuple)):
        x = np.stack([t.data if isinstance(t, Tensor) else np.asarray(t) for t in tensor])
    elif isinstance(tensor, Tensor):
        x = tensor.data
    else:
        raise TypeError(f"make_grid: expected a Tensor or a list of Tensors, got {type(tensor).__name__}")
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = np.concatenate([x] * 3, axis=0) if x.shape[0] == 1 else x
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), got {x.shape}")
    if x.shape[1] == 1:
        x = np.concatenate([x] * 3, axis=1)
    x = np.array(x, copy=True)
    if normalize:
        if scale_each:
            for k in range(x.shape[0]):
                low, high = value_range if value_range is not None else (x[k].min(), x[k].max())
                x[k] = _scale(x[k], low, high)
        else:
            low, high = value_range if value_range is not None else (x.min(), x.max())
            x = _scale(x, low, high).astype(x.dtype)
    if x.shape[0] == 1:
        return Tensor(x[0])
    B, C, H, W = x.shape
    columns = min(nrow, B)
    rows = int(math.ceil(B / columns))
    hp, wp = H + padding, W + padding
    grid = np.full((C, rows * hp + padding, columns * wp + padding), pad_value, dtype=x.dtype)
    for k in range(B):
        r, c = divmod(k, columns)
        grid[:, r * hp + padding: r * hp + padding + H, c * wp + padding: c * wp + padding + W] = x[k]
    return Tensor(grid)
