"""numba kernels: arrays in, arrays out — no autograd, no Tensor.

Each module puts a slow numpy twin first (``*_reference``) and the fast kernel after it;
the public names (``conv2d_forward``, ``max_pool2d_backward``, …) are the fast kernels, or
the twins when the environment variable ``MINITUNE_NO_JIT=1`` is set at import.
``minitune warmup`` compiles them all once.
"""
from .batch_norm import batch_norm_backward, batch_norm_forward  # noqa: F401
from .conv2d import conv2d_backward, conv2d_forward, conv2d_output_size  # noqa: F401
from .jit import NO_JIT  # noqa: F401
from .matmul import matmul_numba  # noqa: F401
from .pooling import (adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward, avg_pool2d_backward,  # noqa: F401
                      avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward)
