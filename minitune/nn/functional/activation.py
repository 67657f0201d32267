r"""``relu``: y = max(x, 0), as ``torch.nn.functional.relu`` (and ``sigmoid``).

    dL/dx = g · [x > 0]      (the gradient at exactly 0 is 0, as in torch)

The math is ``minitune.autograd.ops.elementwise.ReLU`` (``Tensor.relu``); ``F.relu`` runs the
same formulas through the kernels of ``minitune/kernels/elementwise.py``, which split the array
over the threads (a ResNet runs 17 ReLUs per forward).
``inplace=True`` overwrites ``input`` only when no gradient is recorded (grad mode off, or
input does not require grad); otherwise it returns a new tensor and leaves ``input`` as it
was — torch would modify it in place and version-check the graph, which minitune does not track.
"""
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor import Tensor
from ...kernels.elementwise import relu_backward, relu_forward


class ReLU(Function):
    """y = max(a, 0);   dL/da = g · [¬(y ≤ 0)]   (``autograd.ops.elementwise.ReLU`` through the kernels)"""

    fresh_gradients = True  # a new array, or g itself when the engine lets it be overwritten

    @staticmethod
    def forward(ctx, a):
        y = relu_forward(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return relu_backward(g, y, out=g if ctx.may_overwrite_grad else None)


def relu(input, inplace=False):  # noqa: A002 - torch's name
    """y = max(input, 0)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"relu: input must be a Tensor, got {type(input).__name__}")
    if inplace and not (is_grad_enabled() and input.requires_grad):
        relu_forward(input.data, out=input.data)
        return input
    return ReLU.apply(input)


def sigmoid(input):  # noqa: A002 - torch's name
    """y = σ(x) = 1 / (1 + e⁻ˣ), in the stable two-branch form of ``autograd.ops.elementwise.Sigmoid``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sigmoid: input must be a Tensor, got {type(input).__name__}")
    return input.sigmoid()
