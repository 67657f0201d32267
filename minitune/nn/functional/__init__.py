"""``minitune.nn.functional``: differentiable ops, each a ``Function`` over a kernel.

Importing it also gives autograd the kernels' multi-threaded array functions
(autograd/array_functions.py: the same results as numpy's, on all cores).
"""
from ...autograd import array_functions as _array_functions
from ...kernels import elementwise as _elementwise
from .dropout import dropout  # noqa: F401
from .loss import cross_entropy, log_softmax, nll_loss, softmax  # noqa: F401
from .activation import relu, sigmoid  # noqa: F401
from .batch_norm import batch_norm  # noqa: F401
from .conv import conv2d  # noqa: F401
from .linear import linear  # noqa: F401
from .padding import pad  # noqa: F401
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d  # noqa: F401

_array_functions.install(add=_elementwise.add)
