r"""Max pooling's forward on SIMD vectors (simd.py): ResNet's pool, 3× faster than pooling.py's scalar kernel.

pooling.py states the rule and holds the numpy twin; this kernel computes the same y and idx for
stride 1 or 2 (the same in both axes) and no dilation, LANES outputs of a row at a time:

    y[n, c, oh, ow]   = max over the window of x[n, c, h, w]        (−∞ padding)
    idx[n, c, oh, ow] = h·W + w of the maximum: the first in row-major window order, a NaN wins and
                        a later NaN moves the index (v > best or isnan(v), torch's rule)

Each input row is split into s phases (its even and odd columns) padded with −∞, so that window
column j of LANES consecutive outputs is one vector, ``P[j mod s, h, ow + j div s]``.  The running
max and arg-max are vectors; ``vpick`` takes the new value lane by lane exactly where the scalar
kernel's comparison would, NaN included, so the input needs no NaN check first.  The arg-max is a
float vector of plane indices, exact while H·W < 2²⁴ (the caller checks), converted to int64 once.
Measured: ResNet-18's pool at batch 8 8.2 → 2.7 ms, batch 32 35.6 → 12.5 ms (benchmarks/README.md).
"""
import numpy as np

from .jit import njit
from .simd import LANES, copy_row, veven, vload, vodd, vpick, vsplat, vstore, vstore_first, vto_int64


def max_pool2d_forward_simd(x, y, idx, kernel, s, padding):
    """Fills y, idx (N, C, Ho, Wo) from x (N, C, H, W) for a window ``kernel``, stride s ∈ {1, 2} and
    ``padding``: the kernel below, with its small scratch arrays made here by numpy.  (Inside numba,
    ``np.full`` compiles as two functions of its own: 0.3 s of a first forward's cold start; so did
    the one-element array that turned an index h·W + j into x's dtype, which ``at`` replaces.  The
    phase planes P stay the kernel's own: passed in, the kernel ran 30 % slower.)"""
    (kh, kw), (ph, pw) = kernel, padding
    W, Wo = x.shape[3], y.shape[3]
    width = -(-(W + 2 * pw) // (2 * LANES)) * (2 * LANES) + 2 * LANES  # the padded row, whole vectors
    row = np.full((1, width + LANES), -np.inf, dtype=x.dtype)  # row[pw + w] = x[n, c, h, w], −∞ around
    col = (np.arange(Wo + LANES) * s - pw).astype(x.dtype)[None]  # s·ow − pw: window column 0 of output ow
    first_col = np.maximum(col, 0)  # the first column of window ow inside the input
    minus_inf = np.full((1, LANES), -np.inf, dtype=x.dtype)
    at = (np.arange(x.shape[2])[:, None] * W + np.arange(kw)).astype(x.dtype)  # h·W + j, in x's dtype
    _max_pool2d_forward_kernel(x, y, idx, kh, kw, s, ph, pw, row, col, first_col, minus_inf, at)


@njit()
def _max_pool2d_forward_kernel(x, y, idx, kh, kw, s, ph, pw, row, col, first_col, minus_inf, at):
    """y, idx of x (N, C, H, W) for a kh × kw window, stride s ∈ {1, 2}, padding (ph, pw) (module docstring).

    Window rows outside the input are skipped; ``first_col[0, ow]``: the first column of window ow
    inside the input, where its arg-max starts (a window of −∞ points there, as the scalar kernel's).
    ``row``, ``col``, ``minus_inf``, ``at`` (at[h, j] = h·W + j): as ``max_pool2d_forward_simd`` made them."""
    N, C, H, W = x.shape
    Ho, Wo = y.shape[2], y.shape[3]
    Mw = (row.shape[1] - LANES) // s
    P = np.empty((s, H, Mw), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for h in range(H):
                copy_row(x[n, c], h, W, pw, row)  # the lanes past W write 0: −∞ again below
                for w in range(pw + W, pw + -(-W // LANES) * LANES):
                    row[0, w] = -np.inf
                for m in range(0, Mw, LANES):
                    if s == 1:
                        vstore(P[0], h, m, vload(row, 0, m))
                    else:
                        u, v = vload(row, 0, 2 * m), vload(row, 0, 2 * m + LANES)
                        vstore(P[0], h, m, veven(u, v))
                        vstore(P[1], h, m, vodd(u, v))
            for oh in range(Ho):
                h0 = oh * s - ph
                hs = h0 if h0 > 0 else 0  # the window's rows inside the input: [hs, he)
                he = h0 + kh if h0 + kh < H else H
                for ow in range(0, Wo, LANES):
                    best = vload(minus_inf, 0, 0)
                    arg = vsplat(at[hs, 0]) + vload(first_col, 0, ow)
                    for h in range(hs, he):
                        for j in range(kw):
                            v = vload(P[j % s], h, ow + j // s)
                            arg = vpick(v, best, vsplat(at[h, j]) + vload(col, 0, ow), arg)
                            best = vpick(v, best, v, best)
                    k = Wo - ow if Wo - ow < LANES else LANES
                    vstore_first(y[n, c], oh, ow, best, k)
                    vstore_first(idx[n, c], oh, ow, vto_int64(arg), k)
