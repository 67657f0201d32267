"""Argument checks shared by ``nn.functional`` and ``nn``: int-or-pair sizes and float tensors.

One place for the rules torch applies to every layer's arguments, so that each op's
error says the same thing in the same words:

- ``pair(v, name)``: an int, or a sequence of two ints, as ``(h, w)`` (torch's ``_pair``).
  A sequence of another length is a ``ValueError``; a value that is not an int a ``TypeError``.
- ``check_float(t, what, dtype)``: ``t`` is a ``Tensor`` of float32 or float64, and of
  ``dtype`` when given (the dtype of the op's input: ops never mix precisions silently).
"""
import numpy as np

from ...autograd.tensor import Tensor

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def pair(value, name):
    """An int or a pair of ints as ``(h, w)``, as torch's ``_pair``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        h, w = value
    else:
        h = w = value
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(h), int(w)


def check_float(t, what, dtype=None):
    """Raise ``TypeError`` unless ``t`` is a float32/float64 ``Tensor`` (of ``dtype`` when given)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a Tensor, got {type(t).__name__}")
    if t.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{what} must be float32 or float64, got {t.dtype}")
    if dtype is not None and t.dtype != dtype:
        raise TypeError(f"{what} has dtype {t.dtype} but input has dtype {dtype}; they must match")
