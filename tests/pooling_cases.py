"""The pooling case table, written once: ``tools/references/kernels.py`` evaluates it with torch
(writing ``tests/reference/kernels_<kind>_<name>_<f64|f32>.npz``) and the pooling tests with minitune.

Each window case is ``name: (input shape, keyword arguments of F.max_pool2d / F.avg_pool2d)`` and
each adaptive case ``name: (input shape, output_size)``.  ``RULE_CASES`` are torch's rules on
hand-made inputs (ties, NaN, −∞ padding, where the adaptive bins fall): the input is built here,
torch's output, indices and gradient are the fixture, so no torch fact is typed in a test.
Every case draws its random numbers from ``seed(name)``, so adding a case reseeds no other.
"""
import zlib

import numpy as np

WINDOWS = {
    "k3s2p1": ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    "k2s2": ((1, 2, 6, 6), dict(kernel_size=2)),
    "k3s1p1": ((1, 2, 7, 5), dict(kernel_size=3, stride=1, padding=1)),
    "rect": ((2, 2, 7, 9), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    "k7s3p3": ((1, 1, 8, 8), dict(kernel_size=7, stride=3, padding=3)),
    "k1s2x1": ((3, 2, 5, 4), dict(kernel_size=1, stride=(2, 1))),
    "ceil": ((1, 2, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "ceil_rect": ((2, 1, 6, 9), dict(kernel_size=(2, 3), stride=(3, 2), ceil_mode=True)),
}
MAX_POOL_CASES = {
    **WINDOWS,
    "dil2": ((1, 2, 9, 10), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
    "dil_ceil": ((2, 1, 10, 9), dict(kernel_size=(2, 3), stride=(2, 3), padding=(1, 1), dilation=(3, 2),
                                     ceil_mode=True)),
}
AVG_POOL_CASES = {
    **WINDOWS,
    "exclude_pad": ((1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    "ceil_exclude_pad": ((2, 1, 8, 7), dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True,
                                            count_include_pad=False)),
    "divisor5": ((1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1, divisor_override=5)),
}
ADAPTIVE_CASES = {
    "global": ((2, 3, 5, 7), (1, 1)),
    "3x2": ((1, 2, 7, 5), (3, 2)),
    "4x4": ((1, 2, 10, 9), (4, 4)),
}
ADAPTIVE_MAX_CASES = {
    "global": ((2, 3, 5, 7), (1, 1)),
    "3x2": ((1, 2, 7, 5), (3, 2)),
    "4x5": ((1, 2, 10, 9), (4, 5)),
}
KINDS = {"max_pool2d": MAX_POOL_CASES, "avg_pool2d": AVG_POOL_CASES, "adaptive_avg_pool2d": ADAPTIVE_CASES,
         "adaptive_max_pool2d": ADAPTIVE_MAX_CASES}

_NAN, _INF = np.nan, np.inf
# name: (function, input (float64), keyword arguments)
RULE_CASES = {
    "max_ties": ("max_pool2d", np.ones((1, 1, 2, 2)), dict(kernel_size=2)),
    "max_ties_overlapping": ("max_pool2d", np.ones((1, 1, 3, 4)), dict(kernel_size=2, stride=1)),
    "max_nan": ("max_pool2d", np.array([[[[1.0, _NAN, 2.0, _NAN, 0.5, 3.0]]]]), dict(kernel_size=(1, 3))),
    "max_minus_inf_padding": ("max_pool2d", -np.ones((1, 1, 2, 2)), dict(kernel_size=2, stride=1, padding=1)),
    "max_all_minus_inf": ("max_pool2d", np.full((1, 1, 3, 3), -_INF), dict(kernel_size=2, stride=2, padding=1)),
    # +0 and −0 tie as the maximum: which zero is the first in row-major order shows in y's sign
    "max_signed_zero_ties": ("max_pool2d", np.array([[[[-1.0, 0.0, -0.0, 0.0, -1.0], [-0.0, -1.0, 0.0, -0.0, 0.0],
                                                       [0.0, -0.0, -1.0, -0.0, -1.0]]]]),
                             dict(kernel_size=2, stride=1)),
    "max_signed_zero_ties_k3": ("max_pool2d", np.array([[[[-0.0, -1.0, 0.0], [0.0, -0.0, -1.0], [-1.0, 0.0, -0.0]]]]),
                                dict(kernel_size=3, stride=1, padding=1)),
    "adaptive_max_nan": ("adaptive_max_pool2d", np.array([[[[_NAN, 1.0], [_NAN, 3.0]]]]), dict(output_size=1)),
    "adaptive_max_ties": ("adaptive_max_pool2d", np.ones((1, 1, 5, 4)), dict(output_size=(2, 3))),
    # one-hot rows: y[0, c, i, 0] > 0 exactly when row c lies in bin i, so y shows where torch's bins fall
    "adaptive_bins_7to3": ("adaptive_avg_pool2d", np.eye(7).reshape(1, 7, 7, 1), dict(output_size=(3, 1))),
    "adaptive_bins_10to4": ("adaptive_avg_pool2d", np.eye(10).reshape(1, 10, 10, 1), dict(output_size=(4, 1))),
    "adaptive_bins_5to3": ("adaptive_avg_pool2d", np.eye(5).reshape(1, 5, 5, 1), dict(output_size=(3, 1))),
}


def seed(name):
    """The seed of case ``name``: a hash of the name, not its position in a table."""
    return zlib.crc32(name.encode())
