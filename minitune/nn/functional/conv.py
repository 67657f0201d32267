r"""``conv2d``: 2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    y[n, o, oh, ow] = b[o] + Σ_{c, i, j} w[o, c, i, j] · x_pad[n, group·C_g + c, oh·s_h + i·d_h, ow·s_w + j·d_w]

with group = o // (O/groups), C_g = C/groups, and Ho = ⌊(H + 2p_h − d_h(kh − 1) − 1)/s_h⌋ + 1.

Vector-Jacobian products, for the upstream gradient g_y (col = im2col(x), W₂ = w as
(O, C_g·kh·kw) per group):

    dL/db = Σ_{n,oh,ow} g_y,     dL/dw = Σ_n g_y[n] · col[n]ᵀ,     dL/dx = col2im(W₂ᵀ · g_y)

(the last one is the transposed convolution: g_y correlated with the flipped kernel).  The
kernels live in ``minitune/kernels/conv2d.py`` (im2col + GEMM) and ``winograd.py`` (3×3
stride-1 convolutions); the backward unfolds x again (into a reused workspace) instead of
keeping the forward's columns: far less memory, and no slower.  A Winograd forward keeps its
weight transform U = G w Gᵀ (16 planes of O × C) for the backward instead.
Unbatched (C, H, W) input is accepted, as in torch.  ``padding`` is an int, a pair, ``'valid'`` or
``'same'`` (stride 1; an odd total puts the extra row/column on the right/bottom, as torch does).
"""
import numpy as np

from ...autograd.function import Function
from .arguments import check_float, pair
from .padding import pad
from ...kernels.conv2d import conv2d_backward, conv2d_forward, conv2d_output_size


class Conv2d(Function):
    """y = conv2d(x, w, b);   dL/dx = col2im(W₂ᵀ g_y),  dL/dw = Σₙ g_y[n] col[n]ᵀ,  dL/db = Σ g_y"""

    fresh_gradients = True  # the kernels return new arrays (Function.fresh_gradients)

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, dilation, groups)
        if not ctx.needs_input_grad[0]:
            ctx.U = None
            return conv2d_forward(x, weight, bias, stride, padding, dilation, groups)
        # a Winograd forward's weight transform U = G w Gᵀ, kept for the backward's grad_input (or None)
        y, ctx.U = conv2d_forward(x, weight, bias, stride, padding, dilation, groups, keep_weight_transform=True)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad[:3]
        U, ctx.U = ctx.U, None  # used once: a second backward (retain_graph) computes it again
        grad_x, grad_w, grad_b = conv2d_backward(grad_out, x, weight, *ctx.args, need=need, U=U)
        return grad_x, grad_w, grad_b, None, None, None, None




def _string_padding(input, weight, padding, stride, dilation):
    """torch's ``padding='valid'`` (none) and ``'same'`` (stride 1; output size = input size): a
    total of d·(k − 1) rows and columns, half on each side, the odd one on the right/bottom.
    Returns (input, padding), the input padded by ``F.pad`` where the halves differ."""
    if padding == "valid":
        return input, 0
    if padding != "same":
        raise ValueError(f"conv2d: invalid padding string {padding!r}, should be one of 'valid', 'same'")
    if pair(stride, "stride") != (1, 1):
        raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
    th, tw = (d * (k - 1) for d, k in zip(pair(dilation, "dilation"), weight.shape[-2:]))
    if th % 2 == 0 and tw % 2 == 0:
        return input, (th // 2, tw // 2)
    return pad(input, (tw // 2, tw - tw // 2, th // 2, th - th // 2)), 0


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002 - torch's name
    """2-D convolution of ``input`` (N, C, H, W) or (C, H, W) with ``weight`` (O, C/groups, kh, kw)."""
    check_float(input, "conv2d: input")
    check_float(weight, "conv2d: weight", input.dtype)
    if bias is not None:
        check_float(bias, "conv2d: bias", input.dtype)
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 4:
        raise ValueError(f"conv2d: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (out_channels, in_channels/groups, kh, kw), "
                         f"got shape {weight.shape}")
    if isinstance(padding, str):
        input, padding = _string_padding(input, weight, padding, stride, dilation)
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"conv2d: stride and dilation must be positive and padding non-negative, got "
                         f"stride={stride}, padding={padding}, dilation={dilation}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    N, C, H, W = input.shape
    O, Cg, kh, kw = weight.shape
    if C % groups or O % groups:
        raise ValueError(f"conv2d: groups={groups} must divide both in_channels={C} and out_channels={O}")
    if Cg * groups != C:
        raise ValueError(f"conv2d: weight of shape {weight.shape} expects {Cg * groups} input channels "
                         f"(groups={groups}), but input of shape {input.shape} has {C}")
    if bias is not None and bias.shape != (O,):
        raise ValueError(f"conv2d: bias must have shape ({O},) for weight of shape {weight.shape}, got {bias.shape}")
    conv2d_output_size(H, W, (kh, kw), stride, padding, dilation)  # raises when the kernel does not fit
    return Conv2d.apply(input, weight, bias, stride, padding, dilation, int(groups))
