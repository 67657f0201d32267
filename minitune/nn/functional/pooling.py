r"""2-D pooling, as ``torch.nn.functional.max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d``.

    max:      y = max over the window of x_pad (padding = −∞);   dL/dx[argmax] += g
    avg:      y = (1/(kh·kw)) Σ_window x_pad (padding = 0);      dL/dx[window] += g/(kh·kw)
    adaptive: y[i, j] = mean of x over rows [⌊iH/oh⌋, ⌈(i+1)H/oh⌉) × the same for columns;
              dL/dx[bin] += g / |bin|

The kernels and their full docstrings are in ``minitune/kernels/pooling.py``.  Window size
Ho = ⌊(H + 2p − k)/s⌋ + 1; ``stride`` defaults to ``kernel_size``.  Supported: torch's
defaults dilation=1, ceil_mode=False, count_include_pad=True, divisor_override=None;
other values raise ``ValueError``.  Unbatched (C, H, W) input is accepted.
"""

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from .arguments import check_float, pair
from ...kernels.pooling import (adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward, avg_pool2d_backward,
                                avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward, pool2d_output_size)



class MaxPool2d(Function):
    """y = max_window x;   dL/dx[n, c].flat[idx] += g   (idx = the argmax of each window)"""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        y, idx = max_pool2d_forward(x, kernel, stride, padding)
        ctx.save_for_backward(idx)
        ctx.input_shape = x.shape
        ctx.indices = idx
        return y

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        return max_pool2d_backward(g, idx, ctx.input_shape), None, None, None


class AvgPool2d(Function):
    """y = Σ_window x / (kh·kw);   dL/dx[window] += g / (kh·kw)"""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        ctx.args = (x.shape, kernel, stride, padding)
        return avg_pool2d_forward(x, kernel, stride, padding)

    @staticmethod
    def backward(ctx, g):
        return avg_pool2d_backward(g, *ctx.args), None, None, None


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


def _window_args(input, kernel_size, stride, padding, name):
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(stride, "stride")
    padding = pair(padding, "padding")
    pool2d_output_size(input.shape[-2], input.shape[-1], kernel, stride, padding, name)
    return kernel, stride, padding


def _batched(fn, input, *args):
    if input.ndim == 3:
        out = fn(input.unsqueeze(0), *args)
        return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)
    return fn(input, *args)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Max over kh×kw windows; with ``return_indices`` also the flat h·W + w index of each maximum."""
    _check_input(input, "max_pool2d")
    if pair(dilation, "dilation") != (1, 1) or ceil_mode:
        raise ValueError(f"max_pool2d: only dilation=1 and ceil_mode=False are supported, got dilation={dilation}, "
                         f"ceil_mode={ceil_mode}")
    args = _window_args(input, kernel_size, stride, padding, "max_pool2d")

    def run(x, kernel, stride, padding):
        y = MaxPool2d.apply(x, kernel, stride, padding)
        if not return_indices:
            return y
        idx = y.grad_fn.ctx.indices if y.grad_fn is not None else max_pool2d_forward(x.data, kernel, stride, padding)[1]
        return y, Tensor(idx)

    return _batched(run, input, *args)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Mean over kh×kw windows, zero padding counted in the divisor (torch's default)."""
    _check_input(input, "avg_pool2d")
    if ceil_mode or not count_include_pad or divisor_override is not None:
        raise ValueError("avg_pool2d: only ceil_mode=False, count_include_pad=True, divisor_override=None are "
                         f"supported, got {ceil_mode}, {count_include_pad}, {divisor_override}")
    args = _window_args(input, kernel_size, stride, padding, "avg_pool2d")
    return _batched(AvgPool2d.apply, input, *args)


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average over the adaptive bins giving an ``output_size`` (int, pair, None = keep) output."""
    _check_input(input, "adaptive_avg_pool2d")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
        oh, ow = output_size
    else:
        oh = ow = output_size
    oh = input.shape[-2] if oh is None else int(oh)
    ow = input.shape[-1] if ow is None else int(ow)
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    return _batched(AdaptiveAvgPool2d.apply, input, (oh, ow))
