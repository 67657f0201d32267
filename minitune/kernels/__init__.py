"""numba kernels: arrays in, arrays out — no autograd, no Tensor.

Each module puts a slow numpy twin first (``*_reference``: read it first) and the fast
kernel after it; the public names (``conv2d_forward``, ``max_pool2d_backward``, …) run the
fast kernels, or the twins when the environment variable ``MINITUNE_NO_JIT=1`` is set at
import.  Files: conv2d.py (im2col + GEMM), winograd.py (3×3 stride-1 convolutions) and
winograd_transforms.py, direct_conv.py (the stem, without im2col), im2col.py, batch_norm.py,
pooling.py and max_pool_simd.py, elementwise.py (ReLU), fma.py (the optimizers' fused
multiply-add), matmul.py (the GEMM ladder), simd.py (SIMD vectors inside numba kernels),
workspace.py (reused scratch arrays, malloc tuning), threads.py (a kernel's work cut into parts,
one per thread), jit.py (how kernels are compiled).
``minitune warmup`` compiles them all once.
"""
from .batch_norm import (batch_norm_backward, batch_norm_backward_reference, batch_norm_forward,  # noqa: F401
                         batch_norm_forward_reference)
from .conv2d import (conv2d_backward, conv2d_backward_reference, conv2d_forward,  # noqa: F401
                     conv2d_forward_reference, conv2d_output_size)
from .jit import NO_JIT  # noqa: F401
from .matmul import matmul_numba  # noqa: F401
from .pooling import (adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward, avg_pool2d_backward,  # noqa: F401
                      avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward)
from .workspace import keep_freed_memory

KEEPS_FREED_MEMORY = keep_freed_memory()  # large arrays reuse freed memory: see workspace.py
