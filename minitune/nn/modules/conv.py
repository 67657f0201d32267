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
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True).

    Only ``padding_mode='zeros'`` (torch's default) is supported; ``padding`` is an int or a pair.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"Conv2d: padding must be an int or a pair of ints, got the string {padding!r}")
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
        self.padding = pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")
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
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
