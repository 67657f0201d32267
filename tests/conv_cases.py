"""The conv2d case table, written once and read by ``tools/references/kernels.py`` (torch
fixtures), ``tests/test_kernels_conv2d.py`` (fast paths against the numpy twin) and
``tests/test_functional_conv.py`` (gradcheck, values against the fixtures).

Each case is a name and a ``ConvCase``; ``uses`` says which checks run it:
"fixture" (torch writes reference values), "gradcheck" (float64 finite differences: keep it
small), "fast_mode" (gradcheck's fast mode, for the larger ones).  Every case runs the
kernel-vs-twin test.  Random inputs are seeded by ``seed(name)``, a hash of the case name, so
adding or reordering cases never reseeds the others.
"""
import zlib
from collections import namedtuple

ConvCase = namedtuple("ConvCase", "N C H W O kernel stride padding dilation groups bias uses")

CASES = {
    # ResNet-like shapes
    "basic3x3": ConvCase(2, 3, 7, 6, 4, (3, 3), 1, 1, 1, 1, True, {"fixture", "gradcheck"}),
    "same3x3_even": ConvCase(2, 2, 4, 6, 3, (3, 3), 1, 1, 1, 1, False, {"gradcheck"}),
    "valid3x3_odd": ConvCase(1, 2, 5, 5, 2, (3, 3), 1, 0, 1, 1, True, {"gradcheck"}),
    "pad2_3x3": ConvCase(3, 4, 8, 9, 5, (3, 3), 1, 2, 1, 1, True, {"gradcheck"}),
    "stride2_3x3": ConvCase(1, 2, 6, 5, 2, (3, 3), 2, 1, 1, 1, True, {"gradcheck"}),
    "stem7x7": ConvCase(1, 3, 12, 10, 4, (7, 7), 2, 3, 1, 1, False, {"fixture", "gradcheck", "fast_mode"}),
    "pointwise": ConvCase(1, 3, 5, 6, 4, (1, 1), 1, 0, 1, 1, True, {"gradcheck"}),
    "pointwise_stride2": ConvCase(2, 4, 7, 7, 6, (1, 1), 2, 0, 1, 1, False, {"fixture", "gradcheck"}),
    "pointwise_padded_groups2": ConvCase(3, 2, 4, 4, 2, (1, 1), 1, 1, 1, 2, False, {"gradcheck"}),
    # groups, strides, dilation
    "stride2_groups2": ConvCase(2, 4, 8, 8, 6, (3, 3), 2, 1, 1, 2, True, {"fixture", "gradcheck"}),
    "depthwise": ConvCase(2, 4, 6, 7, 4, (3, 3), 1, 1, 1, 4, True, {"fixture", "gradcheck"}),
    "stride3_pad2": ConvCase(1, 1, 7, 7, 2, (3, 3), 3, 2, 1, 1, False, {"gradcheck"}),
    "stride3_pad3_dil2": ConvCase(1, 2, 9, 11, 3, (3, 3), 3, 3, 2, 1, False, {"fixture", "gradcheck"}),
    "pad3_dil2": ConvCase(1, 2, 6, 6, 2, (3, 3), 1, 3, 2, 1, True, {"gradcheck"}),
    "rect": ConvCase(1, 3, 6, 9, 2, (2, 3), (2, 1), (0, 2), (1, 2), 1, True, {"fixture", "gradcheck"}),
    # planes of ≥ 256 output pixels: the per-sample paths
    "per_sample3x3": ConvCase(2, 3, 17, 16, 4, (3, 3), 1, 1, 1, 1, True, set()),
    "per_sample_pointwise_stride2": ConvCase(2, 4, 33, 34, 3, (1, 1), 2, 0, 1, 1, False, set()),
    "per_sample_stride2_3x3": ConvCase(2, 3, 33, 32, 4, (3, 3), 2, 1, 1, 1, False, set()),
    # a multiple of 8 output channels, a small C·kh·kw, output rows of ≥ 32 pixels: the direct kernel
    "direct_stem7x7": ConvCase(2, 3, 20, 70, 8, (7, 7), 2, 3, 1, 1, True, set()),
    "direct_3x3": ConvCase(1, 4, 5, 40, 16, (3, 3), 1, 1, 1, 1, False, set()),
    "direct_rect_odd_rows": ConvCase(3, 2, 8, 66, 8, (3, 5), 2, (1, 2), 1, 1, True, set()),
}


def pair(v):
    """An int or a pair as (h, w)."""
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def seed(name):
    """The case's random seed: a hash of its name (stable across runs and Python versions)."""
    return zlib.crc32(name.encode())


def names(use=None):
    """The case names, or those whose ``uses`` hold ``use``."""
    return [n for n, c in CASES.items() if use is None or use in c.uses]
