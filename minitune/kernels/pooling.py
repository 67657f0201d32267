r"""2-D pooling kernels, NCHW: max, average, adaptive average, adaptive max — forward and backward.

Window of output cell (oh, ow), for kernel k, stride s, padding p, dilation d (per axis):
rows h = oh·s_h − p_h + i·d_h for i < k_h, columns likewise; cells outside the input are padding.

max_pool2d (padding is −∞, as in torch):

    y[n, c, oh, ow]   = max over the window of x[n, c, h, w]
    idx[n, c, oh, ow] = h·W + w of that maximum in the unpadded plane (torch's ``indices``)
    backward: grad_x[n, c].flat[idx] += g[n, c, oh, ow]   (only the arg-max gets the gradient)

Ties go to the first maximum in row-major window order (strict ``>``, as torch's CPU kernel);
a NaN wins and a later NaN moves the index (``v > best or isnan(v)``, torch's rule).  The index
starts at the window's first cell inside the input, so a window of −∞ points there.

avg_pool2d (padding is 0):

    y[n, c, oh, ow] = (1 / D) Σ over the window's cells inside the input of x[n, c, h, w]
    D = divisor_override if given, else the window's size clipped to the padded input
        (count_include_pad=True, torch's default: k_h·k_w except where ceil_mode runs past the
        padding) or the number of its cells inside the input (count_include_pad=False)
    backward: every cell of the window inside the input receives g / D

adaptive_avg_pool2d / adaptive_max_pool2d to (out_h, out_w): bin i of the H axis covers rows
[⌊i·H/out_h⌋, ⌈(i+1)·H/out_h⌉) (bins overlap when H is not a multiple); y is the mean (or the
max, with its index as max pooling's) over the bin; the average's backward spreads g / |bin|
over the bin, the max's is max pooling's scatter-add.

Output size (torch's ``pooling_output_shape``), per axis:

    Ho = ⌊(H + 2p − d·(k − 1) − 1 + (s − 1 if ceil_mode)) / s⌋ + 1,
    minus 1 if ceil_mode and the last window would start in the right padding ((Ho − 1)·s ≥ H + p).

Layout: every kernel reads (N, C, H, W) C-contiguous arrays (``_c_array`` copies read-only,
broadcast or strided inputs first) and allocates its outputs with numpy.

Read the numpy twins (``*_reference``) first: short and obviously right.  The public kernels
(``max_pool2d_forward`` …) are functions that call the numba kernel, or the twin when
``MINITUNE_NO_JIT=1``.  Performance contract of the numba kernels: the outer ``prange`` is over
the N·C planes, and each plane writes only its own output and, in backward, its own gradient
plane (no races; serial unless ``MINITUNE_NUMBA_PARALLEL=1``); max pooling runs its samples in
parts, one per thread (threads.py).  Its forward with stride 1 or 2 and no dilation (ResNet's
pool) is max_pool_simd.py's: SIMD vectors of LANES outputs of a row (simd.py), the torch rule
as a lane-by-lane select, 3x faster than the scalar kernel (batch 8: 8.2 → 2.7 ms);
the scalar kernel's window loop does a single comparison when the input has no NaN.  Where no
one reads idx (inference: no grad, no ``return_indices``), ``nn.functional.max_pool2d`` calls
max_pool_values.py instead: y alone, in numpy, about as fast, with nothing to compile.  Adaptive
pooling loops over its out_h·out_w bins with numpy (cheap next to convolutions; (1, 1) is one ``mean``).
"""

import numpy as np

from .jit import NO_JIT, njit, prange
from .max_pool_simd import max_pool2d_forward_simd
from .threads import run_parts, split


def _c_array(x):
    """``x`` as a writable C-contiguous array (numba's kernels take no read-only or broadcast views)."""
    if x.flags.c_contiguous and x.flags.writeable:
        return x
    return np.array(x, order="C", copy=True)


def _axis_size(n, k, s, p, d, ceil_mode):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool2d_output_size(H, W, kernel, stride, padding, name="pool2d", dilation=(1, 1), ceil_mode=False):
    """(Ho, Wo) of a pooling window (the module docstring's formula); ValueError when it cannot fit."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if min(kh, kw, sh, sw, dh, dw) < 1 or ph < 0 or pw < 0:
        raise ValueError(f"{name}: kernel_size, stride and dilation must be positive and padding non-negative, got "
                         f"kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{name}: pad should be at most half of effective kernel size, got padding {padding} "
                         f"for kernel {kernel}")
    Ho, Wo = _axis_size(H, kh, sh, ph, dh, ceil_mode), _axis_size(W, kw, sw, pw, dw, ceil_mode)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{name}: kernel {kh}x{kw} (dilation {dilation}) is larger than the padded input "
                         f"{H + 2 * ph}x{W + 2 * pw} (input {H}x{W}, padding {padding})")
    return Ho, Wo


def adaptive_bins(size, out):
    """[(start, end)] with start = ⌊i·size/out⌋, end = ⌈(i+1)·size/out⌉."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _avg_divisors(H, W, Ho, Wo, kernel, stride, padding, count_include_pad, divisor_override):
    """D[oh, ow] of avg pooling (the module docstring's rule), shared by the twin and the fast path."""
    if divisor_override:
        return np.full((Ho, Wo), float(divisor_override))
    sizes = []
    for n, out, k, s, p in ((H, Ho, kernel[0], stride[0], padding[0]), (W, Wo, kernel[1], stride[1], padding[1])):
        start = np.arange(out) * s - p
        if count_include_pad:
            sizes.append(np.minimum(start + k, n + p) - start)
        else:
            sizes.append(np.minimum(start + k, n) - np.maximum(start, 0))
    return np.outer(sizes[0], sizes[1]).astype(np.float64)


# ---------------------------------------------------------------- numpy twins (slow, obviously right)

def max_pool2d_forward_reference(x, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """numpy twin: pad with −∞, gather each (dilated) window, argmax (first maximum) → flat index.

    With NaNs in a window np.argmax picks the first NaN where torch picks the last one.
    """
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "max_pool2d", dilation, ceil_mode)
    # enough padding on the bottom/right for windows that ceil_mode lets run past the input
    bottom = max((Ho - 1) * sh + (kh - 1) * dh + 1 - H - ph, ph)
    right = max((Wo - 1) * sw + (kw - 1) * dw + 1 - W - pw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, bottom), (pw, right)), constant_values=-np.inf)
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    idx = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for oh in range(Ho):
        for ow in range(Wo):
            rows = oh * sh + dh * np.arange(kh)
            cols = ow * sw + dw * np.arange(kw)
            win = xp[:, :, rows[:, None], cols[None, :]].reshape(N, C, kh * kw)
            k = np.argmax(win, axis=2)
            y[:, :, oh, ow] = np.take_along_axis(win, k[:, :, None], axis=2)[:, :, 0]
            idx[:, :, oh, ow] = (rows[k // kw] - ph) * W + (cols[k % kw] - pw)
    return y, idx


def max_pool2d_backward_reference(grad_out, idx, input_shape):
    """numpy twin: scatter-add g at the saved arg-max positions of each (n, c) plane."""
    N, C, H, W = input_shape
    gx = np.zeros((N * C, H * W), dtype=grad_out.dtype)
    planes = np.repeat(np.arange(N * C), idx[0, 0].size)  # the plane of each output cell, in order
    np.add.at(gx, (planes, idx.reshape(-1)), grad_out.reshape(-1))
    return gx.reshape(input_shape)


def avg_pool2d_forward_reference(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True,
                                 divisor_override=None):
    """numpy twin: zero-pad, sum each window, divide by D (``_avg_divisors``)."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "avg_pool2d", ceil_mode=ceil_mode)
    D = _avg_divisors(H, W, Ho, Wo, kernel, stride, padding, count_include_pad, divisor_override)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph + kh), (pw, pw + kw)))
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for oh in range(Ho):
        for ow in range(Wo):
            y[:, :, oh, ow] = xp[:, :, oh * sh: oh * sh + kh, ow * sw: ow * sw + kw].sum(axis=(2, 3)) / D[oh, ow]
    return y


def avg_pool2d_backward_reference(grad_out, input_shape, kernel, stride, padding, ceil_mode=False,
                                  count_include_pad=True, divisor_override=None):
    """numpy twin: add g / D to every cell of each window, then drop the padding."""
    N, C, H, W = input_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    _, _, Ho, Wo = grad_out.shape
    D = _avg_divisors(H, W, Ho, Wo, kernel, stride, padding, count_include_pad, divisor_override)
    gxp = np.zeros((N, C, H + 2 * ph + kh, W + 2 * pw + kw), dtype=grad_out.dtype)
    for oh in range(Ho):
        for ow in range(Wo):
            gxp[:, :, oh * sh: oh * sh + kh, ow * sw: ow * sw + kw] += grad_out[:, :, oh, ow, None, None] / D[oh, ow]
    return gxp[:, :, ph: ph + H, pw: pw + W].copy()


def adaptive_avg_pool2d_forward_reference(x, output_size):
    """numpy twin: the mean over each adaptive bin."""
    N, C, H, W = x.shape
    oh_, ow_ = output_size
    y = np.empty((N, C, oh_, ow_), dtype=x.dtype)
    for i, (h0, h1) in enumerate(adaptive_bins(H, oh_)):
        for j, (w0, w1) in enumerate(adaptive_bins(W, ow_)):
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


def adaptive_avg_pool2d_backward_reference(grad_out, input_shape):
    """numpy twin: g / |bin| added to every cell of each bin."""
    N, C, H, W = input_shape
    _, _, oh_, ow_ = grad_out.shape
    gx = np.zeros(input_shape, dtype=grad_out.dtype)
    for i, (h0, h1) in enumerate(adaptive_bins(H, oh_)):
        for j, (w0, w1) in enumerate(adaptive_bins(W, ow_)):
            gx[:, :, h0:h1, w0:w1] += grad_out[:, :, i, j, None, None] / ((h1 - h0) * (w1 - w0))
    return gx


def adaptive_max_pool2d_forward_reference(x, output_size):
    """numpy twin: the max over each adaptive bin and its flat index h·W + w (torch's NaN rule:
    the last NaN of a bin wins, so the bin is scanned for NaNs first)."""
    N, C, H, W = x.shape
    oh_, ow_ = output_size
    y = np.empty((N, C, oh_, ow_), dtype=x.dtype)
    idx = np.empty((N, C, oh_, ow_), dtype=np.int64)
    for i, (h0, h1) in enumerate(adaptive_bins(H, oh_)):
        for j, (w0, w1) in enumerate(adaptive_bins(W, ow_)):
            win = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)
            nan = np.isnan(win)
            last_nan = win.shape[2] - 1 - np.argmax(nan[:, :, ::-1], axis=2)
            k = np.where(nan.any(axis=2), last_nan, np.argmax(win, axis=2))
            y[:, :, i, j] = np.take_along_axis(win, k[:, :, None], axis=2)[:, :, 0]
            idx[:, :, i, j] = (h0 + k // (w1 - w0)) * W + (w0 + k % (w1 - w0))
    return y, idx


# ---------------------------------------------------------------- numba kernels

@njit(parallel=True)
def _max_pool2d_forward_numba(x, y, idx, kh, kw, sh, sw, ph, pw, dh, dw, nan_aware=False, dilated=False):
    """Max and arg-max of each window; one plane per ``prange`` iteration.

    Called without ``nan_aware`` (the input has no NaN, checked by the caller), numba compiles
    the default False as a constant and drops the NaN test from the inner loop, which halves the
    time; ``nan_aware=True`` follows torch's rule exactly.  Likewise without ``dilated`` the window
    loops step by the constant 1 (ResNet's pool), and by dh, dw only when ``dilated=True``."""
    N, C, H, W = x.shape
    Ho, Wo = y.shape[2], y.shape[3]
    # flat views with unsigned indices: no negative-index wrap-around tests (see im2col.py); 15 → 11 ms
    # for ResNet-18's pool at batch 8
    xf = x.reshape(N * C * H * W)
    yf = y.reshape(N * C * Ho * Wo)
    idxf = idx.reshape(N * C * Ho * Wo)
    for nc in prange(N * C):
        plane = np.uint64(nc * H * W)
        for oh in range(Ho):
            h0 = oh * sh - ph
            hs = h0 + ((-h0 + dh - 1) // dh) * dh if h0 < 0 else h0  # first window row inside the input
            he = min(h0 + (kh - 1) * dh + 1, H)
            for ow in range(Wo):
                w0 = ow * sw - pw
                ws = w0 + ((-w0 + dw - 1) // dw) * dw if w0 < 0 else w0
                we = min(w0 + (kw - 1) * dw + 1, W)
                best = -np.inf
                arg = hs * W + ws  # torch starts from the first valid cell
                for h in range(hs, he, dh if dilated else 1):
                    for w in range(ws, we, dw if dilated else 1):
                        v = xf[plane + np.uint64(h * W + w)]
                        if v > best or (nan_aware and v != v):
                            best = v
                            arg = h * W + w
                out = np.uint64((nc * Ho + oh) * Wo + ow)
                yf[out] = best
                idxf[out] = arg


@njit(parallel=True)
def _max_pool2d_backward_numba(grad_out, idx, gx):
    """gx[n, c] = 0, then gx[n, c, idx] += g: each plane zeroes and scatters into its own gradient
    plane (N, C, H·W) — zeroed here, in the parts, rather than by one thread's ``np.zeros`` (at
    batch 32 the gradient of ResNet's pool is 103 MB: 10 ms of memset on one core)."""
    N, C, Ho, Wo = grad_out.shape
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        gx[n, c, :] = 0
        for oh in range(Ho):
            for ow in range(Wo):
                gx[n, c, idx[n, c, oh, ow]] += grad_out[n, c, oh, ow]


@njit(parallel=True)
def _avg_pool2d_forward_numba(x, y, inv_divisor, kh, kw, sh, sw, ph, pw):
    """y = (window sum of the cells inside the input) · (1/D); one plane per ``prange`` iteration."""
    N, C, H, W = x.shape
    _, _, Ho, Wo = y.shape
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        for oh in range(Ho):
            hs, he = max(oh * sh - ph, 0), min(oh * sh - ph + kh, H)
            for ow in range(Wo):
                ws, we = max(ow * sw - pw, 0), min(ow * sw - pw + kw, W)
                s = 0.0
                for h in range(hs, he):
                    for w in range(ws, we):
                        s += x[n, c, h, w]
                y[n, c, oh, ow] = s * inv_divisor[oh, ow]


@njit(parallel=True)
def _avg_pool2d_backward_numba(grad_out, gx, inv_divisor, kh, kw, sh, sw, ph, pw):
    """gx[window cells inside the input] += g · (1/D); each plane writes its own gradient plane."""
    N, C, H, W = gx.shape
    _, _, Ho, Wo = grad_out.shape
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        for oh in range(Ho):
            hs, he = max(oh * sh - ph, 0), min(oh * sh - ph + kh, H)
            for ow in range(Wo):
                ws, we = max(ow * sw - pw, 0), min(ow * sw - pw + kw, W)
                gv = grad_out[n, c, oh, ow] * inv_divisor[oh, ow]
                for h in range(hs, he):
                    for w in range(ws, we):
                        gx[n, c, h, w] += gv


# ---------------------------------------------------------------- the public kernels

# Max pooling runs its samples in parts (one per thread, threads.py) of at least this many values each.
MIN_PART_VALUES = 65536


def _sample_parts(a):
    """The samples of a (N, …) cut into parts, one per thread; one part for small arrays."""
    return split(a.shape[0], work=a.size, min_part_work=MIN_PART_VALUES)


def max_pool2d_forward(x, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """(y, idx) of max pooling: y = max over each window, idx = h·W + w of its arg-max.

    x (N, C, H, W) float; kernel, stride, padding, dilation are (h, w) pairs.  Returns y
    (N, C, Ho, Wo) of x's dtype and idx (N, C, Ho, Wo) int64.  Fast: the numba kernel (the NaN
    test compiled out when x has no NaN); the numpy twin with ``MINITUNE_NO_JIT=1``.
    """
    if NO_JIT:
        return max_pool2d_forward_reference(x, kernel, stride, padding, dilation, ceil_mode)
    N, C, H, W = x.shape
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "max_pool2d", dilation, ceil_mode)
    # outputs allocated by numpy (huge pages; see im2col.py), filled by numba
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    idx = np.empty((N, C, Ho, Wo), dtype=np.int64)
    x = _c_array(x)
    parts = _sample_parts(x)
    s = stride[0]
    if tuple(dilation) == (1, 1) and s == stride[1] and s in (1, 2) and H * W < 2 ** 24 and x.dtype.kind == "f" \
            and x.dtype.itemsize >= 4:  # the SIMD kernel (plane indices exact in its float lanes)
        run_parts(lambda lo, hi: max_pool2d_forward_simd(x[lo:hi], y[lo:hi], idx[lo:hi], kernel, s, padding), parts)
        return y, idx
    flags = {}
    if any(np.isnan(m) for m in run_parts(lambda lo, hi: x[lo:hi].max(), parts)):  # a NaN propagates through max
        flags["nan_aware"] = True
    if tuple(dilation) != (1, 1):
        flags["dilated"] = True
    run_parts(lambda lo, hi: _max_pool2d_forward_numba(x[lo:hi], y[lo:hi], idx[lo:hi], *kernel, *stride, *padding,
                                                      *dilation, **flags), parts)
    return y, idx


def max_pool2d_backward(grad_out, idx, input_shape):
    """grad_x (``input_shape``) with grad_x[n, c].flat[idx] += grad_out (repeats accumulate).

    Also the backward of ``adaptive_max_pool2d``.  Fast: the numba scatter; twin: ``np.add.at``."""
    if NO_JIT:
        return max_pool2d_backward_reference(grad_out, idx, input_shape)
    N, C, H, W = input_shape
    gx = np.empty((N, C, H * W), dtype=grad_out.dtype)  # each plane zeroed by the kernel
    grad_out, idx = _c_array(grad_out), _c_array(idx)
    run_parts(lambda lo, hi: _max_pool2d_backward_numba(grad_out[lo:hi], idx[lo:hi], gx[lo:hi]), _sample_parts(gx))
    return gx.reshape(input_shape)


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """y = (1/D) · Σ over each window's cells inside the input, D as the module docstring says.

    x (N, C, H, W) float; returns y (N, C, Ho, Wo) of x's dtype.  Fast: the numba kernel with the
    reciprocal divisors precomputed per output cell; the numpy twin with ``MINITUNE_NO_JIT=1``."""
    if NO_JIT:
        return avg_pool2d_forward_reference(x, kernel, stride, padding, ceil_mode, count_include_pad,
                                            divisor_override)
    N, C, H, W = x.shape
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "avg_pool2d", ceil_mode=ceil_mode)
    inv = 1.0 / _avg_divisors(H, W, Ho, Wo, kernel, stride, padding, count_include_pad, divisor_override)
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    _avg_pool2d_forward_numba(_c_array(x), y, inv, *kernel, *stride, *padding)
    return y


def avg_pool2d_backward(grad_out, input_shape, kernel, stride, padding, ceil_mode=False, count_include_pad=True,
                        divisor_override=None):
    """grad_x (``input_shape``): every window cell inside the input receives g / D."""
    if NO_JIT:
        return avg_pool2d_backward_reference(grad_out, input_shape, kernel, stride, padding, ceil_mode,
                                             count_include_pad, divisor_override)
    N, C, H, W = input_shape
    Ho, Wo = grad_out.shape[2:]
    inv = 1.0 / _avg_divisors(H, W, Ho, Wo, kernel, stride, padding, count_include_pad, divisor_override)
    gx = np.zeros(input_shape, dtype=grad_out.dtype)
    _avg_pool2d_backward_numba(_c_array(grad_out), gx, inv, *kernel, *stride, *padding)
    return gx


def adaptive_avg_pool2d_forward(x, output_size):
    """y[n, c, i, j] = mean of x over bin (i, j) (``adaptive_bins``); (1, 1) is one global ``mean``."""
    if not NO_JIT and tuple(output_size) == (1, 1):  # global average pooling, ResNet's head
        return x.mean(axis=(2, 3), keepdims=True, dtype=x.dtype)
    return adaptive_avg_pool2d_forward_reference(x, output_size)  # loops over out_h·out_w bins only


def adaptive_avg_pool2d_backward(grad_out, input_shape):
    """grad_x: g[i, j] / |bin| added over each bin (i, j); for (1, 1) one broadcast."""
    N, C, H, W = input_shape
    if not NO_JIT and grad_out.shape[2:] == (1, 1):
        return np.broadcast_to(grad_out / (H * W), input_shape).copy()
    return adaptive_avg_pool2d_backward_reference(grad_out, input_shape)


def adaptive_max_pool2d_forward(x, output_size):
    """(y, idx): the max over each adaptive bin and its flat index h·W + w (backward: ``max_pool2d_backward``).

    One implementation, the twin: it loops over the out_h·out_w bins only."""
    return adaptive_max_pool2d_forward_reference(x, output_size)
