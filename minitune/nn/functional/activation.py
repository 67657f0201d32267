r"""``relu``: y = max(x, 0), as ``torch.nn.functional.relu`` (and ``sigmoid``).

    dL/dx = g · [x > 0]      (the gradient at exactly 0 is 0, as in torch)

The Function is ``minitune.autograd.ops.elementwise.ReLU`` (the math lives there).
``inplace=True`` overwrites ``input`` only when no gradient is recorded (grad mode off, or
input does not require grad); otherwise it returns a new tensor and leaves ``input`` as it
was — torch would modify it in place and version-check the graph, which minitune does not track.
"""
import numpy as np

from ...autograd.grad_mode import is_grad_enabled
from ...autograd.ops.elementwise import ReLU
from ...autograd.tensor import Tensor


def relu(input, inplace=False):  # noqa: A002 - torch's name
    """y = max(input, 0)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"relu: input must be a Tensor, got {type(input).__name__}")
    if inplace and not (is_grad_enabled() and input.requires_grad):
        np.maximum(input.data, 0, out=input.data)
        return input
    return ReLU.apply(input)


def sigmoid(input):  # noqa: A002 - torch's name
    """y = σ(x) = 1 / (1 + e⁻ˣ), in the stable two-branch form of ``autograd.ops.elementwise.Sigmoid``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sigmoid: input must be a Tensor, got {type(input).__name__}")
    return input.sigmoid()
