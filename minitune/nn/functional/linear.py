r"""``linear``: y = x Wᵀ + b, as ``torch.nn.functional.linear``.

x has shape (*, in_features), W (out_features, in_features), b (out_features,):

    y[..., o] = Σ_i x[..., i] W[o, i] + b[o]

Vector-Jacobian products, with x₂ and g₂ the inputs and upstream gradients flattened to
(rows, features):

    dL/dx = g W,      dL/dW = g₂ᵀ x₂,      dL/db = Σ_rows g₂

The products are ``kernels.matmul`` (BLAS through ``np.matmul``; see kernels/matmul.py for
the measured reason).
"""
from ...autograd.function import Function
from ...kernels.matmul import matmul
from .arguments import check_float


class Linear(Function):
    """y = x Wᵀ + b;   dL/dx = g W,  dL/dW = g₂ᵀ x₂,  dL/db = Σ g₂"""

    fresh_gradients = True  # the kernels return new arrays (Function.fresh_gradients)

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        x2 = x.reshape(-1, x.shape[-1])
        y = matmul(x2, weight.T)
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        g2 = g.reshape(-1, weight.shape[0])
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = matmul(g2, weight).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            gw = matmul(g2.T, x.reshape(-1, x.shape[-1]))
        if ctx.needs_input_grad[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


def linear(input, weight, bias=None):  # noqa: A002 - torch's name
    """y = input Wᵀ + b for input (*, in_features), weight (out_features, in_features)."""
    for t, what in ((input, "input"), (weight, "weight"), (bias, "bias")):
        if t is None:
            continue
        check_float(t, f"linear: {what}", None if t is input else input.dtype)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {input.shape} does not match weight of shape {weight.shape} "
                         f"(expected last dimension {weight.shape[1]})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Linear.apply(input, weight, bias)
