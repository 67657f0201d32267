r"""Inverted dropout.

In training, each element is kept with probability 1 − p and the kept ones are scaled by
1/(1 − p), so that the expected output equals the input and evaluation needs no rescaling:

    m ~ Bernoulli(1 − p) elementwise,   y = x ⊙ m / (1 − p);      dL/dx = g ⊙ m / (1 − p)

p = 1 drops everything (y = 0, as in torch).  Outside training (or p = 0), y = x.  The mask
is drawn from ``minitune.random.default_generator()``, so ``minitune.manual_seed`` makes it
reproducible (the numbers differ from torch's, whose random stream is another one).
"""
import numpy as np

from ... import random as _random
from ...autograd.function import Function
from ...autograd.tensor import Tensor


class Dropout(Function):
    """y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p);   dL/dx = g ⊙ m / (1 − p)"""

    @staticmethod
    def forward(ctx, x, p, generator):
        keep = generator.random(x.shape) >= p
        # scale[i] = m[i] / (1 − p); with p = 1 nothing is kept and the scale is 0, not 0/0.
        scale = keep.astype(x.dtype) * (x.dtype.type(1.0 / (1.0 - p)) if p < 1 else x.dtype.type(0))
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        return g * scale, None, None


def dropout(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002 - torch's names
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p) (only when ``training``).

    ``inplace`` is accepted for torch compatibility; the result is always a new tensor.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(input).__name__}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got {input.dtype}")
    return Dropout.apply(input, float(p), generator or _random.default_generator())
