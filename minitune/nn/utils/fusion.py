r"""``torch.nn.utils.fusion``: fold an eval-mode batch norm into the convolution before it.

In eval mode a batch norm is a fixed per-channel affine map, y = γ(z − μ)/√(σ² + ε) + β with the
running μ, σ².  Applied to a convolution's output z = w ⋆ x + b it folds into the convolution:

    s = γ / √(σ² + ε)                    (one factor per output channel o)
    w′[o] = w[o] · s[o]                  (every weight of output channel o)
    b′[o] = (b[o] − μ[o]) · s[o] + β[o]

so one convolution computes both, with one pass over the output fewer (a ResNet-18 forward has
20 batch norms).  ``transpose=True`` is for a transposed convolution, whose output channels are
the weight's second axis.  As torch, the results are new Parameters (``requires_grad`` copied
from the convolution's weight and bias; a bias the convolution did not have gets False), and
the fused module is a deep copy: conv and bn are left as they were.
"""
import copy

import numpy as np

from ..parameter import Parameter


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A new convolution computing bn(conv(x)) for eval-mode ``conv`` and ``bn`` (torch's function)."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")  # torch's exception and message
    fused_conv = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused_conv.weight, fused_conv.bias = fuse_conv_bn_weights(
        fused_conv.weight, fused_conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias, transpose)
    return fused_conv


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(w′, b′) as Parameters: w′ = w · s (per output channel), b′ = (b − μ)·s + β, s = γ/√(σ² + ε)."""
    w = conv_w.data
    rm = bn_rm.data
    b = np.zeros_like(rm) if conv_b is None else conv_b.data
    gamma = np.ones_like(rm) if bn_w is None else bn_w.data
    beta = np.zeros_like(rm) if bn_b is None else bn_b.data
    s = gamma / np.sqrt(bn_rv.data + bn_eps)  # torch: bn_w · rsqrt(bn_rv + eps)
    shape = [1, -1] + [1] * (w.ndim - 2) if transpose else [-1, 1] + [1] * (w.ndim - 2)
    fused_w = (w * s.reshape(shape)).astype(w.dtype)
    fused_b = ((b - rm) * s + beta).astype(w.dtype if conv_b is None else conv_b.dtype)
    requires_grad_b = False if conv_b is None else conv_b.requires_grad  # torch's zeros_like(running_mean)
    return Parameter(fused_w, requires_grad=conv_w.requires_grad), Parameter(fused_b, requires_grad=requires_grad_b)
