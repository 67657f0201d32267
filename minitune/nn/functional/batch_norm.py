r"""``batch_norm``, as ``torch.nn.functional.batch_norm``, over the channel axis 1 of (N, C, *) input.

    x̂ = (x − μ) / √(σ² + ε),   y = γ x̂ + β

training: μ, σ² are the batch mean and biased variance per channel, and the running
statistics (when given) are updated in place with factor m = ``momentum``:
running_mean ← (1 − m)·running_mean + m·μ, running_var ← (1 − m)·running_var + m·σ²·M/(M − 1).
eval: μ, σ² = running_mean, running_var.

Vector-Jacobian products (M values per channel):

    training:  dL/dx = γ/√(σ² + ε) · (g − mean(g) − x̂ · mean(g x̂))
    eval:      dL/dx = g · γ / √(running_var + ε)
    dL/dγ = Σ g x̂,    dL/dβ = Σ g

(derived in ``minitune/kernels/batch_norm.py``).  ``momentum=None`` is refused, as by
torch's functional form: ``nn.BatchNorm2d(momentum=None)`` passes 1/num_batches_tracked.
"""
import numbers

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from .arguments import check_float
from ...kernels.batch_norm import batch_norm_backward, batch_norm_forward



class BatchNorm(Function):
    """y = γ(x − μ)/√(σ² + ε) + β;   dL/dx = γs(g − mean g − x̂ mean(g x̂)) (train) or γ s g (eval)"""

    fresh_gradients = True  # the kernels return new arrays (Function.fresh_gradients)

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        y, mean, invstd = batch_norm_forward(x, weight, bias, running_mean, running_var, training, momentum, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.training = training
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, mean, invstd = ctx.saved_tensors
        grad_x, grad_w, grad_b = batch_norm_backward(grad_out, x, weight, mean, invstd, ctx.training,
                                                     need=ctx.needs_input_grad[:3])
        return grad_x, grad_w, grad_b, None, None, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,  # noqa: A002
               eps=1e-5):
    """Normalize each channel of ``input`` (N, C, *); see the module docstring."""
    check_float(input, "batch_norm: input")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of at least 2 dimensions (N, C, *), got shape {input.shape}")
    C = input.shape[1]
    for t, what in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"), (bias, "bias")):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"batch_norm: {what} must be a Tensor or None, got {type(t).__name__}")
        if t.dtype != input.dtype:
            raise TypeError(f"batch_norm: {what} has dtype {t.dtype} but input has dtype {input.dtype}; they must match")
        if t.shape != (C,):
            raise ValueError(f"batch_norm: {what} must have shape ({C},) for input of shape {input.shape}, "
                             f"got {t.shape}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be both given or both None")
    if not training and running_mean is None:
        raise ValueError("batch_norm: running_mean must be defined in evaluation mode")
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"batch_norm: momentum must be a float, got {type(momentum).__name__} "
                        "(for a cumulative average pass 1/num_batches_tracked, as nn.BatchNorm2d(momentum=None) does)")
    rm = None if running_mean is None else running_mean.data
    rv = None if running_var is None else running_var.data
    return BatchNorm.apply(input, weight, bias, rm, rv, bool(training), float(momentum), float(eps))
