r"""``relu``: y = max(x, 0), as ``torch.nn.functional.relu`` (and ``sigmoid``).

    dL/dx = g · [x > 0]      (the gradient at exactly 0 is 0, as in torch)

The math is ``minitune.autograd.ops.elementwise.ReLU`` (``Tensor.relu``); ``F.relu`` runs the
same formulas through the kernels of ``minitune/kernels/elementwise.py``, which split the array
over the threads (a ResNet runs 17 ReLUs per forward).
``inplace=True`` modifies ``input`` and returns it, as torch's ``relu_``.  When a graph is recorded
(torchvision's ``ReLU(inplace=True)`` after each batch norm and residual add), ``input``'s history
moves one node on (its ``grad_fn`` becomes the ReLU's) and max(x, 0) is written into its own array
when nothing else refers to that array (``Tensor._owns_data``: no saved array, no view), else into a
new array that ``input`` then holds.  So an op recorded before keeps the values it saved, where torch
would raise at backward ("modified by an inplace operation"); views of ``input`` see the change only
in the first case.  As in torch, a leaf that requires grad cannot be modified in place under autograd.
"""
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor import Tensor
from ...kernels.elementwise import relu_backward, relu_forward


class ReLU(Function):
    """y = max(a, 0);   dL/da = g · [¬(y ≤ 0)]   (``autograd.ops.elementwise.ReLU`` through the kernels)"""

    fresh_gradients = True  # a new array, or g itself when the engine lets it be overwritten

    @staticmethod
    def forward(ctx, a, overwrite=False):
        y = relu_forward(a, out=a if overwrite else None)  # overwrite: F.relu(inplace=True) on an owned array
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return relu_backward(g, y, out=g if ctx.may_overwrite_grad else None), None


def relu(input, inplace=False):  # noqa: A002 - torch's name
    """y = max(input, 0)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"relu: input must be a Tensor, got {type(input).__name__}")
    if not inplace:
        return ReLU.apply(input)
    if not (is_grad_enabled() and input.requires_grad):  # nothing recorded: just overwrite
        relu_forward(input.data, out=input.data)
        return input
    return input._apply_in_place(ReLU, input._owns_data())


def sigmoid(input):  # noqa: A002 - torch's name
    """y = σ(x) = 1 / (1 + e⁻ˣ), in the stable two-branch form of ``autograd.ops.elementwise.Sigmoid``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sigmoid: input must be a Tensor, got {type(input).__name__}")
    return input.sigmoid()
