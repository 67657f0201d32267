r"""2-D pooling kernels, NCHW: max, average, adaptive average — forward and backward.

max_pool2d (window k, stride s, padding p; padded cells are −∞, as in torch):

    y[n, c, oh, ow] = max_{i<kh, j<kw} x_pad[n, c, oh·s_h + i, ow·s_w + j]
    idx[n, c, oh, ow] = h·W + w of that maximum in the *unpadded* plane (torch's ``indices``)

    backward: grad_x[n, c].flat[idx] += g[n, c, oh, ow]   (only the argmax gets the gradient)

Ties go to the first maximum in row-major window order (strict ``>``, as torch's CPU
kernel); a NaN wins, as in torch (``v > best or isnan(v)``).  torch requires p ≤ k/2 (else a window could lie entirely
in the padding); so do we.

avg_pool2d (torch defaults count_include_pad=True, ceil_mode=False: the divisor is kh·kw
even where the window overlaps the zero padding):

    y[n, c, oh, ow] = (1 / (kh·kw)) Σ_{i,j} x_pad[n, c, oh·s_h + i, ow·s_w + j]
    backward: every cell of the window receives g / (kh·kw)

adaptive_avg_pool2d to (out_h, out_w): bin i of the H axis covers rows
[⌊i·H/out_h⌋, ⌈(i+1)·H/out_h⌉) (bins may overlap when H is not a multiple), and y is the
mean over the bin; backward spreads g / |bin| over the bin.  Output (1, 1) is a plain mean.

Output size (max and avg): Ho = ⌊(H + 2p_h − kh) / s_h⌋ + 1.

Performance contract: max pooling's outer ``prange`` is over the N·C planes (each plane
writes its own output and, in backward, its own gradient plane: no races; serial unless
``MINITUNE_NUMBA_PARALLEL=1``); the inner window loop has a single comparison when the
input has no NaN.  Average and adaptive pooling are plain loops (cheap next to convolutions).
"""

import numpy as np

from .jit import njit, pick, prange


def pool2d_output_size(H, W, kernel, stride, padding, name="pool2d"):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if kh < 1 or kw < 1 or sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError(f"{name}: kernel_size and stride must be positive and padding non-negative, got "
                         f"kernel {kernel}, stride {stride}, padding {padding}")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{name}: pad should be at most half of effective kernel size, got padding {padding} "
                         f"for kernel {kernel}")
    Ho = (H + 2 * ph - kh) // sh + 1
    Wo = (W + 2 * pw - kw) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{name}: kernel {kh}x{kw} is larger than the padded input {H + 2 * ph}x{W + 2 * pw} "
                         f"(input {H}x{W}, padding {padding})")
    return Ho, Wo


def adaptive_bins(size, out):
    """[(start, end)] with start = ⌊i·size/out⌋, end = ⌈(i+1)·size/out⌉."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


# ---------------------------------------------------------------- numpy twins (slow, obviously right)

def max_pool2d_forward_reference(x, kernel, stride, padding):
    """numpy twin: pad with −∞, take each window, argmax (first maximum) → flat index.

    With NaNs in a window np.argmax picks the first NaN where torch picks the last one.
    """
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "max_pool2d")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    idx = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for oh in range(Ho):
        for ow in range(Wo):
            win = xp[:, :, oh * sh: oh * sh + kh, ow * sw: ow * sw + kw].reshape(N, C, kh * kw)
            k = np.argmax(win, axis=2)
            y[:, :, oh, ow] = np.take_along_axis(win, k[:, :, None], axis=2)[:, :, 0]
            idx[:, :, oh, ow] = (oh * sh + k // kw - ph) * W + (ow * sw + k % kw - pw)
    return y, idx


def max_pool2d_backward_reference(grad_out, idx, input_shape):
    """numpy twin: scatter-add g at the saved argmax positions."""
    N, C, H, W = input_shape
    gx = np.zeros((N * C, H * W), dtype=grad_out.dtype)
    rows = np.repeat(np.arange(N * C), idx[0, 0].size)
    np.add.at(gx, (rows, idx.reshape(-1)), grad_out.reshape(-1))
    return gx.reshape(input_shape)


def avg_pool2d_forward_reference(x, kernel, stride, padding):
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "avg_pool2d")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for oh in range(Ho):
        for ow in range(Wo):
            y[:, :, oh, ow] = xp[:, :, oh * sh: oh * sh + kh, ow * sw: ow * sw + kw].sum(axis=(2, 3)) / (kh * kw)
    return y


def avg_pool2d_backward_reference(grad_out, input_shape, kernel, stride, padding):
    N, C, H, W = input_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    _, _, Ho, Wo = grad_out.shape
    gxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=grad_out.dtype)
    for oh in range(Ho):
        for ow in range(Wo):
            gxp[:, :, oh * sh: oh * sh + kh, ow * sw: ow * sw + kw] += grad_out[:, :, oh, ow, None, None] / (kh * kw)
    return gxp[:, :, ph: ph + H, pw: pw + W].copy()


def adaptive_avg_pool2d_forward_reference(x, output_size):
    N, C, H, W = x.shape
    oh_, ow_ = output_size
    y = np.empty((N, C, oh_, ow_), dtype=x.dtype)
    for i, (h0, h1) in enumerate(adaptive_bins(H, oh_)):
        for j, (w0, w1) in enumerate(adaptive_bins(W, ow_)):
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


def adaptive_avg_pool2d_backward_reference(grad_out, input_shape):
    N, C, H, W = input_shape
    _, _, oh_, ow_ = grad_out.shape
    gx = np.zeros(input_shape, dtype=grad_out.dtype)
    for i, (h0, h1) in enumerate(adaptive_bins(H, oh_)):
        for j, (w0, w1) in enumerate(adaptive_bins(W, ow_)):
            gx[:, :, h0:h1, w0:w1] += grad_out[:, :, i, j, None, None] / ((h1 - h0) * (w1 - w0))
    return gx


# ---------------------------------------------------------------- numba kernels

@njit(parallel=True)
def _max_pool2d_forward_numba(x, y, idx, kh, kw, sh, sw, ph, pw, nan_aware=False):
    """Called without ``nan_aware`` (the input has no NaN, checked by the caller), numba
    compiles the default False as a constant and drops the NaN test from the inner loop,
    which halves the time; ``nan_aware=True`` follows torch's rule exactly."""
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
            hs, he = max(h0, 0), min(h0 + kh, H)
            for ow in range(Wo):
                w0 = ow * sw - pw
                ws, we = max(w0, 0), min(w0 + kw, W)
                best = -np.inf
                arg = hs * W + ws  # torch starts from the first valid cell
                for h in range(hs, he):
                    for w in range(ws, we):
                        v = xf[plane + np.uint64(h * W + w)]
                        if v > best or (nan_aware and v != v):
                            best = v
                            arg = h * W + w
                out = np.uint64((nc * Ho + oh) * Wo + ow)
                yf[out] = best
                idxf[out] = arg


@njit(parallel=True)
def _max_pool2d_backward_numba(grad_out, idx, gx):
    N, C, Ho, Wo = grad_out.shape
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        for oh in range(Ho):
            for ow in range(Wo):
                gx[n, c, idx[n, c, oh, ow]] += grad_out[n, c, oh, ow]


@njit()
def _avg_pool2d_numba(x, g, kh, kw, sh, sw, ph, pw, forward):
    """forward: g ← window sums / (kh·kw) of x; backward (forward=False): x += g / (kh·kw) scattered."""
    N, C, H, W = x.shape
    _, _, Ho, Wo = g.shape
    inv = 1.0 / (kh * kw)
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                hs, he = max(oh * sh - ph, 0), min(oh * sh - ph + kh, H)
                for ow in range(Wo):
                    ws, we = max(ow * sw - pw, 0), min(ow * sw - pw + kw, W)
                    if forward:
                        s = 0.0
                        for h in range(hs, he):
                            for w in range(ws, we):
                                s += x[n, c, h, w]
                        g[n, c, oh, ow] = s * inv
                    else:
                        gv = g[n, c, oh, ow] * inv
                        for h in range(hs, he):
                            for w in range(ws, we):
                                x[n, c, h, w] += gv


def _max_pool2d_forward_fast(x, kernel, stride, padding):
    N, C, H, W = x.shape
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "max_pool2d")
    # outputs allocated by numpy (huge pages; see im2col.py), filled by numba
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    idx = np.empty((N, C, Ho, Wo), dtype=np.int64)
    args = (np.ascontiguousarray(x), y, idx, *kernel, *stride, *padding)
    if np.isnan(x.max()):  # one cheap reduction; a NaN anywhere propagates through max
        _max_pool2d_forward_numba(*args, True)
    else:
        _max_pool2d_forward_numba(*args)
    return y, idx


def _max_pool2d_backward_fast(grad_out, idx, input_shape):
    N, C, H, W = input_shape
    gx = np.zeros((N, C, H * W), dtype=grad_out.dtype)
    _max_pool2d_backward_numba(np.ascontiguousarray(grad_out), idx, gx)
    return gx.reshape(input_shape)


def _avg_pool2d_forward_fast(x, kernel, stride, padding):
    N, C, H, W = x.shape
    Ho, Wo = pool2d_output_size(H, W, kernel, stride, padding, "avg_pool2d")
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    _avg_pool2d_numba(np.ascontiguousarray(x), y, *kernel, *stride, *padding, True)
    return y


def _avg_pool2d_backward_fast(grad_out, input_shape, kernel, stride, padding):
    gx = np.zeros(input_shape, dtype=grad_out.dtype)
    _avg_pool2d_numba(gx, np.ascontiguousarray(grad_out), *kernel, *stride, *padding, False)
    return gx


def _adaptive_avg_pool2d_forward_fast(x, output_size):
    if tuple(output_size) == (1, 1):  # global average pooling, ResNet's head
        return x.mean(axis=(2, 3), keepdims=True, dtype=x.dtype)
    return adaptive_avg_pool2d_forward_reference(x, output_size)  # loops over out_h·out_w bins only


def _adaptive_avg_pool2d_backward_fast(grad_out, input_shape):
    N, C, H, W = input_shape
    if grad_out.shape[2:] == (1, 1):
        return np.broadcast_to(grad_out / (H * W), input_shape).copy()
    return adaptive_avg_pool2d_backward_reference(grad_out, input_shape)


max_pool2d_forward = pick(_max_pool2d_forward_fast, max_pool2d_forward_reference)
max_pool2d_backward = pick(_max_pool2d_backward_fast, max_pool2d_backward_reference)
avg_pool2d_forward = pick(_avg_pool2d_forward_fast, avg_pool2d_forward_reference)
avg_pool2d_backward = pick(_avg_pool2d_backward_fast, avg_pool2d_backward_reference)
adaptive_avg_pool2d_forward = pick(_adaptive_avg_pool2d_forward_fast, adaptive_avg_pool2d_forward_reference)
adaptive_avg_pool2d_backward = pick(_adaptive_avg_pool2d_backward_fast, adaptive_avg_pool2d_backward_reference)
