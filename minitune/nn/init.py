r"""Weight initialization, with torch's names, gains and fan conventions (``torch/nn/init.py``).

For a weight of shape (out, in, k₁, k₂, …) the receptive field is r = k₁·k₂·…, and

    fan_in = in · r,      fan_out = out · r.

A gain g compensates for what the nonlinearity does to the variance (``calculate_gain``):
1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu, √(2/(1 + a²)) for leaky_relu with slope a.

* ``kaiming_normal_``:  w ~ N(0, σ²),            σ = g / √fan        (fan = fan_in or fan_out by ``mode``)
* ``kaiming_uniform_``: w ~ U(−b, b),            b = √3 · g / √fan   (same σ: Var U(−b, b) = b²/3)
* ``xavier_normal_``:   w ~ N(0, σ²),            σ = g · √(2 / (fan_in + fan_out))
* ``xavier_uniform_``:  w ~ U(−b, b),            b = √3 · σ

Linear and Conv2d default to ``kaiming_uniform_(w, a=√5)``: g = √(2/6), so b = 1/√fan_in, and a
bias U(−1/√fan_in, 1/√fan_in).  Draws come from ``minitune.random.default_generator()``
(reproducible with ``minitune.manual_seed``; the numbers are not torch's, the distributions are).
Every function fills the tensor in place, without recording a gradient, and returns it.
"""
import math

import numpy as np

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain g for ``nonlinearity`` (torch's table)."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (in · r, out · r) for a weight of shape (out, in, k₁, …), r = Π kᵢ."""
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tuple(tensor.shape)})")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    """fan_in or fan_out, as ``mode`` says (torch's name)."""
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    """Write ``values`` into ``tensor`` in place (its dtype kept), outside the autograd graph."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init functions expect a Tensor, got {type(tensor).__name__}")
    with no_grad():
        tensor.data[...] = values
    return tensor


def _rng(generator):
    """``generator``, or the global one that ``minitune.manual_seed`` reseeds."""
    return generator if generator is not None else _random.default_generator()


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """w ~ U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """w ~ N(mean, std²)."""
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0, got {std}")
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor, val):
    """w = val everywhere."""
    return _fill(tensor, val)


def ones_(tensor):
    """w = 1 everywhere."""
    return _fill(tensor, 1)


def zeros_(tensor):
    """w = 0 everywhere."""
    return _fill(tensor, 0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """w ~ U(−b, b), b = gain · √(6 / (fan_in + fan_out))  (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _rng(generator).uniform(-bound, bound, size=tensor.shape))


def xavier_normal_(tensor, gain=1.0, generator=None):
    """w ~ N(0, σ²), σ = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _rng(generator).normal(0.0, std, size=tensor.shape))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """w ~ U(−b, b), b = √3 · gain(nonlinearity, a) / √fan  (He et al., 2015)."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _rng(generator).uniform(-bound, bound, size=tensor.shape))


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """w ~ N(0, σ²), σ = gain(nonlinearity, a) / √fan  (He et al., 2015)."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, _rng(generator).normal(0.0, std, size=tensor.shape))

