"""``minitune warmup``: compile every numba kernel once (float32 and float64) and print the time per kernel.

numba compiles a kernel on its first call and, with ``cache=True``, stores the machine code
in its cache (``__pycache__`` beside the source, or ``$NUMBA_CACHE_DIR``); later processes
load it in milliseconds.  Run this once after installing so the first training step does
not pay the compile time.
"""
import time

import numpy as np


def _kernel_calls(dtype):
    """(name, zero-argument call) for each kernel, on tiny arrays of ``dtype``."""
    # Imported when the command runs, not when `minitune --help` builds the parser (no numba, no Pillow).
    from ..kernels import batch_norm as B
    from ..kernels import conv2d as C
    from ..kernels import direct_conv as D
    from ..kernels import elementwise as E
    from ..kernels import fma as Fm
    from ..kernels import matmul as M
    from ..kernels import pooling as P
    from ..kernels import winograd as Wg

    x = np.ones((2, 3, 6, 6), dtype=dtype)
    w = np.ones((4, 3, 3, 3), dtype=dtype)
    c = np.ones(3, dtype=dtype)
    conv_args = ((1, 1), (1, 1), (1, 1), 1)
    pool_args = ((3, 3), (2, 2), (1, 1))
    out = {}  # forward results the backward calls need, filled as the list runs in order

    def max_pool():
        out["pool"] = P.max_pool2d_forward(x, *pool_args)

    def batch_norm():
        out["bn"] = B.batch_norm_forward(x, c, c, c.copy(), c.copy(), True, 0.1, 1e-5)

    def relu():
        E.relu_forward(x)
        y = x.copy()
        E.relu_forward(y, out=y)  # in place: its own kernel

    return [
        ("conv2d forward (im2col)", lambda: C.conv2d_forward(x, w, None, *conv_args)),
        ("conv2d backward (col2im)", lambda: C.conv2d_backward(np.ones((2, 4, 6, 6), dtype), x, w, *conv_args)),
        ("conv2d forward (Winograd)", lambda: Wg.winograd_conv2d_forward(x, w, None, (1, 1))),
        ("conv2d forward (direct)",
         lambda: [D.direct_conv2d(x, np.ones((8, 3, 3, 3), dtype), None, (s, s), (1, 1)) for s in (1, 2)]),
        ("conv2d backward (Winograd)", lambda: Wg.winograd_conv2d_backward(np.ones((2, 4, 6, 6), dtype), x, w, (1, 1))),
        ("max_pool2d forward", max_pool),
        ("max_pool2d backward", lambda: P.max_pool2d_backward(out["pool"][0], out["pool"][1], x.shape)),
        ("avg_pool2d forward", lambda: P.avg_pool2d_forward(x, *pool_args)),
        ("avg_pool2d backward", lambda: P.avg_pool2d_backward(out["pool"][0], x.shape, *pool_args)),
        ("batch_norm forward", batch_norm),
        ("batch_norm backward", lambda: B.batch_norm_backward(x, x, c, out["bn"][1], out["bn"][2], True)),
        ("batch_norm forward (eval)", lambda: B.batch_norm_forward(x, c, c, c.copy(), c.copy(), False, 0.1, 1e-5)),
        ("batch_norm backward (eval)", lambda: B.batch_norm_backward(x, x, c, out["bn"][1], out["bn"][2], False)),
        ("relu forward", relu),
        ("relu backward", lambda: E.relu_backward(x, x)),
        ("fma (optimizer steps)", lambda: [Fm.fma(x, y, z, out=o) for y in (0.5, x) for z in [x.copy()] for o in (None, z)]),
        ("matmul (numba GEMM)", lambda: M.matmul_numba(w.reshape(4, 27), np.ones((27, 5), dtype))),
    ]


def run(args):
    from ..kernels.jit import NO_JIT  # here, not at the top: see _kernel_calls

    if NO_JIT:
        print("MINITUNE_NO_JIT is set: the kernels are the numpy twins, nothing to compile")
        return 0
    total = time.perf_counter()
    for dtype in (np.float32, np.float64):
        for name, call in _kernel_calls(dtype):
            t = time.perf_counter()
            call()
            print(f"{name:<28} {np.dtype(dtype).name:<8} {time.perf_counter() - t:7.2f} s")
    print(f"{'total':<37} {time.perf_counter() - total:7.2f} s")
    return 0


def register(sub):
    parser = sub.add_parser("warmup", help="compile the numba kernels once (then they load from the cache)",
                            description=__doc__.splitlines()[0])
    parser.set_defaults(func=run)
