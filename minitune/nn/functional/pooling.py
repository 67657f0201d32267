r"""2-D pooling, as ``torch.nn.functional.max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d``, ``adaptive_max_pool2d``.

    max:      y = max over the window of x_pad (padding = −∞);   dL/dx[argmax] += g
    avg:      y = (1/D) Σ_window x_pad (padding = 0);             dL/dx[window] += g / D
              D = kh·kw (count_include_pad=True, torch's default), the cells inside the input
              (count_include_pad=False), or divisor_override
    adaptive: y[i, j] = mean (or max) of x over rows [⌊iH/oh⌋, ⌈(i+1)H/oh⌉) × the same for columns;
              dL/dx[bin] += g / |bin|   (max: dL/dx[argmax] += g)

The kernels and their full docstrings are in ``minitune/kernels/pooling.py``.  Output size
Ho = ⌊(H + 2p − d(k − 1) − 1 + (s − 1 if ceil_mode)) / s⌋ + 1 (and one less when ceil_mode
would start the last window in the padding); ``stride`` defaults to ``kernel_size``.  All of
torch's arguments are supported: ``dilation`` (max), ``ceil_mode``, ``return_indices``,
``count_include_pad``, ``divisor_override``.  Unbatched (C, H, W) input is accepted.
"""

from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor import Tensor
from .arguments import check_float, pair
from ...kernels.pooling import (adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward, adaptive_max_pool2d_forward,
                                avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
                                pool2d_output_size)
from ...kernels.max_pool_values import max_pool2d_values


class MaxPool2d(Function):
    """y = max_window x;   dL/dx[n, c].flat[idx] += g   (idx = the arg-max of each window)

    The kernel runs once, in ``max_pool2d``, and gives both y and idx (returned with
    ``return_indices``); this op records them and saves idx for the scatter-add of ``backward``.
    """

    @staticmethod
    def forward(ctx, x, y, idx):
        ctx.save_for_backward(idx)
        ctx.input_shape = x.shape
        return y

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        return max_pool2d_backward(g, idx, ctx.input_shape), None, None


class AdaptiveMaxPool2d(MaxPool2d):
    """y = max over each adaptive bin;   dL/dx[n, c].flat[idx] += g   (the same rule as ``MaxPool2d``)"""


class AvgPool2d(Function):
    """y = Σ_window x / D;   dL/dx[window] += g / D"""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.input_shape = x.shape
        ctx.window = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return avg_pool2d_forward(x, *ctx.window)

    @staticmethod
    def backward(ctx, g):
        return (avg_pool2d_backward(g, ctx.input_shape, *ctx.window),) + (None,) * 6


class AdaptiveAvgPool2d(Function):
    """y[i, j] = mean over bin (i, j);   dL/dx[bin] += g[i, j] / |bin|"""

    @staticmethod
    def forward(ctx, x, output_size):
        ctx.input_shape = x.shape
        return adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx, g):
        return adaptive_avg_pool2d_backward(g, ctx.input_shape), None


def _check_input(input, name):
    check_float(input, f"{name}: input")
    if input.ndim not in (3, 4):
        raise ValueError(f"{name}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")


def _window_args(input, kernel_size, stride, padding, name, dilation=1, ceil_mode=False):
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    pool2d_output_size(input.shape[-2], input.shape[-1], kernel, stride, padding, name, dilation, bool(ceil_mode))
    return kernel, stride, padding, dilation


def _batched(fn, input, *args):
    if input.ndim == 3:
        out = fn(input.unsqueeze(0), *args)
        return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)
    return fn(input, *args)


def _with_indices(function, x, pooled, return_indices):
    y, idx = pooled
    out = function.apply(x, y, idx)
    return (out, Tensor._wrap(idx)) if return_indices else out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Max over kh×kw (dilated) windows; with ``return_indices`` also the flat h·W + w index of each maximum."""
    _check_input(input, "max_pool2d")
    kernel, stride, padding, dilation = _window_args(input, kernel_size, stride, padding, "max_pool2d", dilation,
                                                     ceil_mode)

    def run(x):
        if not return_indices and not (is_grad_enabled() and x.requires_grad):  # nobody reads the arg-max
            return Tensor._wrap(max_pool2d_values(x.data, kernel, stride, padding, dilation, bool(ceil_mode)))
        pooled = max_pool2d_forward(x.data, kernel, stride, padding, dilation, bool(ceil_mode))
        return _with_indices(MaxPool2d, x, pooled, return_indices)

    return _batched(run, input)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Mean over kh×kw windows: divided by the window size with the zero padding (torch's default),
    by the cells inside the input (``count_include_pad=False``) or by ``divisor_override``."""
    _check_input(input, "avg_pool2d")
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
                                         or divisor_override == 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a non-zero int, got {divisor_override!r}")
    kernel, stride, padding, _ = _window_args(input, kernel_size, stride, padding, "avg_pool2d", 1, ceil_mode)
    return _batched(AvgPool2d.apply, input, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad),
                    divisor_override)


def _adaptive_size(input, output_size, name):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"{name}: output_size must be an int or a pair, got {output_size!r}")
        oh, ow = output_size
    else:
        oh = ow = output_size
    oh = input.shape[-2] if oh is None else int(oh)
    ow = input.shape[-1] if ow is None else int(ow)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: output_size must be positive, got {output_size!r}")
    return oh, ow


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average over the adaptive bins giving an ``output_size`` (int, pair, None = keep) output."""
    _check_input(input, "adaptive_avg_pool2d")
    return _batched(AdaptiveAvgPool2d.apply, input, _adaptive_size(input, output_size, "adaptive_avg_pool2d"))


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max over the adaptive bins giving an ``output_size`` output; ``return_indices`` as ``max_pool2d``."""
    _check_input(input, "adaptive_max_pool2d")
    size = _adaptive_size(input, output_size, "adaptive_max_pool2d")
    return _batched(lambda x: _with_indices(AdaptiveMaxPool2d, x, adaptive_max_pool2d_forward(x.data, size),
                                            return_indices), input)
