r"""Max pooling's values without the arg-max — what inference needs — in numpy: no compile.

When no gradient will flow back through a max pool (``no_grad``, or an input that does not require
grad) and ``return_indices`` is off, nobody reads the arg-max ``idx`` (pooling.py), so
``nn.functional.max_pool2d`` asks for y alone.  A window's maximum is separable: along its columns,
then along its rows,

    r[c, h, ow]  = max_j x_pad[c, h, ow·s_w + j·d_w]          (j < k_w)
    y[c, oh, ow] = max_i r[c, oh·s_h + i·d_h, ow]             (i < k_h)

with x_pad the plane padded with −∞ (and, with ``ceil_mode``, −∞ past the right padding, where torch
ignores the window's cells).  Each max is one ``np.maximum(next, best, out=best)`` of strided views
per window offset.  np.maximum returns a NaN from either side, so a NaN in the window gives NaN; on a
tie (+0 and −0 compare equal) numpy 2 returns the second operand, the earlier one, so within a row
the first column wins and then the first row: the first maximum in row-major order, torch's rule,
down to the sign of a zero (the tests hold it to torch's fixtures; an older numpy may return either zero).

Speed: one sample at a time (its planes stay in cache), the samples cut into parts, one per thread
(threads.py).  ResNet-18's pool (64 × 112 × 112, k 3, s 2, p 1) against the SIMD kernel that also
makes idx (max_pool_simd.py): batch 1 1.0 against 0.8 ms, batch 8 and 32 the same within noise; no
int64 idx is allocated, and a first forward in eval mode does not wait ~0.7-1.1 s for numba to
compile that kernel (benchmarks/README.md).  (Rows first runs 20 % faster at batch 1, but its ties
keep the first row, then the first column: −0 where torch has +0.)
"""
import numpy as np

from .pooling import pool2d_output_size
from .threads import run_parts, split

# The samples run in parts (one per thread) of at least this many values each, as max_pool2d_forward's.
MIN_PART_VALUES = 65536


def _last(start, count, step):
    """The stop of the slice start, start + step, …, count elements."""
    return start + step * (count - 1) + 1


def _pool_sample(plane, out, kernel, stride, dilation, rows):
    """out (C, Ho, Wo) = the window maxima of plane (C, Hp, Wp), x already padded with −∞ (module docstring)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    Ho, Wo = out.shape[1:]
    np.copyto(rows, plane[:, : rows.shape[1], 0: _last(0, Wo, sw): sw])  # r = max over the window's columns
    for j in range(1, kw):
        np.maximum(plane[:, : rows.shape[1], j * dw: _last(j * dw, Wo, sw): sw], rows, out=rows)
    np.copyto(out, rows[:, 0: _last(0, Ho, sh): sh])  # y = max of r over the window's rows
    for i in range(1, kh):
        np.maximum(rows[:, i * dh: _last(i * dh, Ho, sh): sh], out, out=out)


def max_pool2d_values(x, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """y (N, C, Ho, Wo) = max over each window of x (N, C, H, W), −∞ padding; no arg-max (module docstring).
    The arguments are ``pooling.max_pool2d_forward``'s, which also returns idx."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "max_pool2d", dilation, ceil_mode)
    Hr = _last(0, Ho, sh) + (kh - 1) * dh  # the rows the windows read, from the top of the padding
    Hp = max(H + 2 * ph, Hr)  # every window inside the padded plane
    Wp = max(W + 2 * pw, _last(0, Wo, sw) + (kw - 1) * dw)
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)

    def part(lo, hi):
        plane = np.full((C, Hp, Wp), -np.inf, dtype=x.dtype)  # the border stays −∞; the inside is each sample
        rows = np.empty((C, Hr, Wo), dtype=x.dtype)
        for n in range(lo, hi):
            plane[:, ph: ph + H, pw: pw + W] = x[n]
            _pool_sample(plane, y[n], kernel, stride, dilation, rows)

    run_parts(part, split(N, work=x.size, min_part_work=MIN_PART_VALUES))
    return y
