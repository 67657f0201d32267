"""``Conv2d``: a 2-D cross-correlation layer; the op and its gradient are ``F.conv2d``.

    y[n, o] = b[o] + Σ_c Σ_{i,j} w[o, c, i, j] · x_pad[n, c, s·h + d·i, s·w + d·j]

Default init, as torch: W ~ kaiming_uniform_(a=√5) = U(−1/√fan_in, 1/√fan_in) with
fan_in = (in_channels/groups)·kh·kw, and b ~ U(−1/√fan_in, 1/√fan_in).
"""
import math

import numpy as np

from .. import functional as F
from ..functional.arguments import pair
from .. import init
from ..module import Module
from ..parameter import Parameter



class Conv2d(Module):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
    padding_mode='zeros').

    ``padding``: an int, a pair, ``'valid'`` (no padding) or ``'same'`` (output size = input size,
    stride 1 only): the total d·(k − 1) per axis, split as torch does — ⌊total/2⌋ before and the
    rest after (so an even kernel pads one more cell at the bottom/right).
    ``padding_mode``: ``'zeros'`` (torch's default), ``'reflect'``, ``'replicate'`` or ``'circular'``:
    the input is padded with ``F.pad`` in that mode, then convolved without padding, as torch does.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"Conv2d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be one of 'valid', 'same'")
        if padding == "same" and pair(stride, "stride") != (1, 1):
            raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"Conv2d: groups must be a positive integer, got {groups!r}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {value!r}")
            if value % groups:
                raise ValueError(f"Conv2d: {name} must be divisible by groups ({value} % {groups} != 0)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        # (left, right, top, bottom) of the input: what F.pad adds before an unpadded convolution
        if padding == "valid":
            self._pads = (0, 0, 0, 0)
        elif padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            (th, tw) = totals
            self._pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        else:
            self._pads = (self.padding[1], self.padding[1], self.padding[0], self.padding[0])
        self.groups = groups
        self.padding_mode = padding_mode
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((out_channels, in_channels // groups) + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input):  # noqa: A002
        return self._conv_forward(input, self.weight, self.bias)

    def _conv_forward(self, input, weight, bias):  # noqa: A002 - torch's name, for layers that swap the weight
        left, right, top, bottom = self._pads
        if self.padding_mode == "zeros" and left == right and top == bottom:
            return F.conv2d(input, weight, bias, self.stride, (top, left), self.dilation, self.groups)
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        padded = F.pad(input, self._pads, mode=mode)
        return F.conv2d(padded, weight, bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s
