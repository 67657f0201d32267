r"""2-D convolution (cross-correlation) forward and backward, NCHW input, OIHW weight.

Forward, for groups G (input channels C = G·C_g, output channels O = G·O_g; output
channel o belongs to group g = o // O_g and reads input channels g·C_g … g·C_g + C_g − 1):

    y[n, o, oh, ow] = b[o] + Σ_{c<C_g} Σ_{i<kh} Σ_{j<kw}
                      w[o, c, i, j] · x_pad[n, g·C_g + c, oh·s_h + i·d_h, ow·s_w + j·d_w]

with x_pad the input padded by p zeros on each side.  The output size is

    Ho = ⌊(H + 2p_h − d_h(kh − 1) − 1) / s_h⌋ + 1       (Wo likewise).

As GEMMs (``im2col``, see im2col.py): col = im2col(x) of shape (G, C_g·kh·kw, N·L),
L = Ho·Wo (the whole batch side by side), and W₂ = w.reshape(G, O_g, C_g·kh·kw):

    Y[g] = W₂[g] · col[g]                                (O_g × N·L),  y = Y as (N, O, Ho, Wo)

Backward, with upstream gradient g_y of y's shape, laid out as Gy (G, O_g, N·L) like Y:

    grad_bias[o]   = Σ_{n, oh, ow} g_y[n, o, oh, ow]
    grad_weight[g] = Gy[g] · col[g]ᵀ                      (O_g × C_g·kh·kw)
    grad_input     = col2im(W₂ᵀ · Gy)                    (col2im is im2col's adjoint)

The last line is the "full" correlation of g_y (dilated by the stride, padded by
d(k−1) − p) with the kernel flipped in both spatial axes and with in/out channels
swapped — i.e. a transposed convolution; col2im computes it without building the
flipped kernel.

The GEMMs are ``np.matmul`` calls (BLAS sgemm; see matmul.py for why not our own numba
GEMM); im2col/col2im are numba kernels.  Two layouts, chosen by the output plane size L:

- L ≥ ``PER_SAMPLE_MIN_L`` (256; ResNet-18's stem, layer1, layer2), groups = 1: one sample at
  a time — col[n] = im2col(x[n]) (K × L, K = C·kh·kw), y[n] = W₂ · col[n] written straight
  into the NCHW output, grad_weight = Σₙ g[n] · col[n]ᵀ with g[n] = grad_out[n] as (O, L),
  grad_input[n] = col2im(W₂ᵀ · g[n]).  A sample's columns (7 MB for layer1 at any batch size)
  stay in cache between im2col and the GEMM, and no (O, N·L) ↔ NCHW transpose is needed.
  Measured at batch 8: the stem convolution 21 → 9.5 ms, a layer1 one 11 → 8 ms (forward).
- smaller planes (layer3-4: L = 196, 49) or groups > 1: the whole batch side by side, one
  GEMM per group over (C_g·kh·kw, N·L) columns, as in the formulas above — per-sample GEMMs
  would be skinny (L = 49), and these columns are small anyway.

The columns live in one reusable per-thread workspace (``scratch``): the backward recomputes
im2col(x) there rather than keeping each layer's columns alive from the forward — measured
on ResNet-18, keeping them cost 743 MiB at batch 8 (2.9 GiB at batch 32) and the page faults
of that much fresh memory cost more time than the second im2col.  Fast path: a 1×1 kernel
with no padding needs no im2col (col is x itself, channel-major, sub-sampled by the stride).

Measured (ResNet-18 training step, batch 8, 2 threads, OpenBLAS with its SkylakeX kernels,
2026-11-28): ~400 ms, of which the GEMMs ~210 ms (≈ 400 GFLOP/s), im2col ~64 ms (forward
and backward), col2im ~17 ms; the rest is batch norm, pooling, ReLU and the autograd engine.
"""
import threading

import numpy as np

from .im2col import col2im, im2col
from .jit import pick


def conv2d_output_size(H, W, kernel, stride, padding, dilation):
    """(Ho, Wo) = (⌊(H + 2p − d(k−1) − 1)/s⌋ + 1, …); ValueError when the kernel does not fit."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"conv2d: kernel size {kh}x{kw} with dilation {dh}x{dw} is larger than the padded "
                         f"input {H + 2 * ph}x{W + 2 * pw} (input {H}x{W}, padding {ph}x{pw})")
    return Ho, Wo


# ---------------------------------------------------------------- numpy twin (slow, obviously right)

def _window(xp, i, j, stride, dilation, Ho, Wo):
    """x_pad[:, :, oh·s + i·d, ow·s + j·d] for all (oh, ow): one strided slice."""
    (sh, sw), (dh, dw) = stride, dilation
    return xp[:, :, i * dh: i * dh + sh * (Ho - 1) + 1: sh, j * dw: j * dw + sw * (Wo - 1) + 1: sw]


def conv2d_forward_reference(x, weight, bias, stride, padding, dilation, groups):
    """numpy twin: y = b + Σ_{i,j} einsum over channels of w[:, :, i, j] and the (i, j) window."""
    # BEGIN SOLUTION A2: implement the numpy twin of the conv2d forward (the cross-correlation sum, one einsum per kernel offset)
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    Og = O // groups
    Ho, Wo = conv2d_output_size(H, W, (kh, kw), stride, padding, dilation)
    (ph, pw) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((N, O, Ho, Wo), dtype=x.dtype)
    for g in range(groups):
        xs, os_ = slice(g * Cg, (g + 1) * Cg), slice(g * Og, (g + 1) * Og)
        for i in range(kh):
            for j in range(kw):
                patch = _window(xp[:, xs], i, j, stride, dilation, Ho, Wo)
                y[:, os_] += np.einsum("nchw,oc->nohw", patch, weight[os_, :, i, j])
    if bias is not None:
        y += bias[None, :, None, None]
    return y
    # END SOLUTION


def conv2d_backward_reference(grad_out, x, weight, stride, padding, dilation, groups, need=(True, True, True)):
    """numpy twin: the adjoint of each (i, j) term of the forward sum."""
    # BEGIN SOLUTION A2: implement the numpy twin of the conv2d backward (grad_input, grad_weight, grad_bias)
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    Og = O // groups
    _, _, Ho, Wo = grad_out.shape
    (ph, pw) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(weight)
    for g in range(groups):
        xs, os_ = slice(g * Cg, (g + 1) * Cg), slice(g * Og, (g + 1) * Og)
        for i in range(kh):
            for j in range(kw):
                patch = _window(xp[:, xs], i, j, stride, dilation, Ho, Wo)
                _window(gxp[:, xs], i, j, stride, dilation, Ho, Wo)[...] += np.einsum(
                    "nohw,oc->nchw", grad_out[:, os_], weight[os_, :, i, j])
                gw[os_, :, i, j] = np.einsum("nohw,nchw->oc", grad_out[:, os_], patch)
    gx = gxp[:, :, ph: ph + H, pw: pw + W].copy()
    gb = grad_out.sum(axis=(0, 2, 3))
    return (gx if need[0] else None, gw if need[1] else None, gb if need[2] else None)
    # END SOLUTION


# ---------------------------------------------------------------- fast path: im2col + BLAS GEMM

# Convolutions whose output plane has at least this many pixels run one sample at a time (see the
# module docstring); smaller ones (ResNet-18's layer3-4: 196 and 49) as one GEMM over the batch.
PER_SAMPLE_MIN_L = 256


def _is_pointwise(kernel, padding, dilation):
    return kernel == (1, 1) and padding == (0, 0)


def _batch_to_columns(a):
    """(N, C, h, w) → (C, N·h·w): the channel-major layout the GEMMs use."""
    N, C = a.shape[:2]
    return np.ascontiguousarray(a.reshape(N, C, -1).transpose(1, 0, 2)).reshape(C, -1)


def _columns_to_batch(a, N, H, W):
    """(C, N·H·W) → (N, C, H, W), contiguous."""
    C = a.shape[0]
    return np.ascontiguousarray(a.reshape(C, N, H, W).transpose(1, 0, 2, 3))


_workspace = threading.local()


def scratch(shape, dtype):
    """A reusable array of ``shape`` for im2col columns, one per thread, grown on demand.

    The columns are the largest temporaries of a network (7 MB per sample of a 3×3 layer1
    convolution of ResNet-18; 14 MB for a whole batch-8 layer3 one).  A fresh array costs
    page faults on every call; this one is allocated once per size and reused by every
    convolution, forward and backward.  Its
    contents are overwritten by the next convolution: never return it to a caller.
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    buf = getattr(_workspace, dtype.name, None)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        setattr(_workspace, dtype.name, buf)
    return buf[:size].reshape(shape)


def clear_scratch():
    """Free the per-thread im2col workspace (it is re-created on the next convolution)."""
    _workspace.__dict__.clear()


def conv2d_columns(x, kernel, stride, padding, dilation, reuse=False):
    """col = im2col(x), shape (C·kh·kw, N·Ho·Wo); for a 1×1 kernel, x sub-sampled by the stride.

    ``reuse=True`` writes the columns into the shared workspace (see ``scratch``).
    """
    N, C, H, W = x.shape
    Ho, Wo = conv2d_output_size(H, W, kernel, stride, padding, dilation)
    if _is_pointwise(kernel, padding, dilation):
        return _batch_to_columns(x if stride == (1, 1) else x[:, :, ::stride[0], ::stride[1]])
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    out = scratch((C * kh * kw, N * Ho * Wo), x.dtype) if reuse else None
    return im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out=out)


def _conv2d_forward_fast(x, weight, bias, stride, padding, dilation, groups, return_columns=False):
    # BEGIN SOLUTION A2: implement the fast conv2d forward: im2col, then one GEMM Y = W2 col per group
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    G, Og, K = groups, O // groups, Cg * kh * kw
    Ho, Wo = conv2d_output_size(H, W, (kh, kw), stride, padding, dilation)
    if G == 1 and not return_columns and Ho * Wo >= PER_SAMPLE_MIN_L:  # large planes: see the module docstring
        y = np.empty((N, O, Ho, Wo), dtype=x.dtype)
        for n in range(N):  # y[n] = W₂ · im2col(x[n]), written in place: no (O, N·L) → NCHW transpose
            yn = y[n].reshape(O, Ho * Wo)
            np.matmul(weight.reshape(O, K), conv2d_columns(x[n:n + 1], (kh, kw), stride, padding, dilation,
                                                          reuse=True), out=yn)
            if bias is not None:
                yn += bias[:, None]
        return y
    col = conv2d_columns(x, (kh, kw), stride, padding, dilation, reuse=not return_columns)
    w2 = weight.reshape(G, Og, K)
    Y = np.matmul(w2[0], col) if G == 1 else np.matmul(w2, col.reshape(G, K, -1))  # one sgemm per group
    if bias is not None:
        Y = Y.reshape(O, -1)
        Y += bias[:, None]
    y = _columns_to_batch(Y.reshape(O, -1), N, Ho, Wo)
    return (y, col) if return_columns else y
    # END SOLUTION


def _conv2d_backward_fast(grad_out, x, weight, stride, padding, dilation, groups, need=(True, True, True),
                          col=None):
    # BEGIN SOLUTION A2: implement the fast conv2d backward: grad_weight = Gy col^T, grad_input = col2im(W2^T Gy), grad_bias = sum of g
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    G, Og, K = groups, O // groups, Cg * kh * kw
    _, _, Ho, Wo = grad_out.shape
    gb = grad_out.sum(axis=(0, 2, 3)) if need[2] else None
    if G == 1 and col is None and Ho * Wo >= PER_SAMPLE_MIN_L:
        gx, gw = _conv2d_backward_per_sample(grad_out, x, weight, stride, padding, dilation, need)
        return gx, gw, gb
    Gy = _batch_to_columns(grad_out).reshape(G, Og, -1)  # (G, O_g, N·L)
    gx = gw = None
    if need[1]:
        if col is None:  # recomputed into the workspace: cheaper than keeping it (see module docstring)
            col = conv2d_columns(x, (kh, kw), stride, padding, dilation, reuse=True)
        col = col.reshape(G, K, -1)
        gw = np.matmul(Gy, col.transpose(0, 2, 1)).reshape(O, Cg, kh, kw)  # grad_weight[g] = Gy[g] col[g]ᵀ
    if need[0]:
        w2t = weight.reshape(G, Og, K).transpose(0, 2, 1)  # W₂ᵀ, (G, K, O_g)
        # grad of col = W₂ᵀ Gy, written into the workspace (col is no longer needed)
        gcol = scratch((G, K, N * Ho * Wo), x.dtype)
        np.matmul(w2t, Gy, out=gcol)
        gcol = gcol.reshape(C * kh * kw, -1)  # (C·kh·kw, N·L)
        if _is_pointwise((kh, kw), padding, dilation):
            if stride == (1, 1):
                gx = _columns_to_batch(gcol, N, H, W)
                if np.shares_memory(gx, gcol):  # N = 1: the transpose was a view of the workspace
                    gx = gx.copy()
            else:
                gx = np.zeros_like(x)
                gx[:, :, ::stride[0], ::stride[1]] = _columns_to_batch(gcol, N, Ho, Wo)
        else:
            (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
            gx = col2im(gcol, N, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)
    return gx, gw, gb
    # END SOLUTION


def _conv2d_backward_per_sample(grad_out, x, weight, stride, padding, dilation, need):
    """groups = 1, one sample at a time: grad_weight = Σₙ g[n] · col[n]ᵀ, grad_input[n] = col2im(W₂ᵀ · g[n]).

    g[n] is grad_out[n] as (O, L) — no transpose — and col[n], W₂ᵀ·g[n] stay in cache."""
    # BEGIN SOLUTION A2: implement the per-sample conv2d backward for large planes (grad_weight accumulated over samples, grad_input = col2im(W2^T g[n]))
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    _, _, Ho, Wo = grad_out.shape
    K, L = C * kh * kw, Ho * Wo
    w2 = weight.reshape(O, K)
    grad_out = np.ascontiguousarray(grad_out)
    # grad_weight accumulated transposed, gwᵀ += col[n] · g[n]ᵀ: BLAS runs this shape faster
    # (measured, layer1: 390 against 250 GFLOP/s for g[n] · col[n]ᵀ)
    gwt = np.zeros((K, O), dtype=x.dtype) if need[1] else None
    part = np.empty((K, O), dtype=x.dtype) if need[1] else None
    gx = (np.zeros_like(x) if stride != (1, 1) else np.empty_like(x)) if need[0] else None
    pointwise = _is_pointwise((kh, kw), padding, dilation)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    for n in range(N):
        gy = grad_out[n].reshape(O, L)
        if need[1]:
            col = conv2d_columns(x[n:n + 1], (kh, kw), stride, padding, dilation, reuse=True)
            gwt += np.matmul(col, gy.T, out=part)
        if need[0]:
            gcol = np.matmul(w2.T, gy, out=scratch((K, L), x.dtype))  # col of x[n] is no longer needed
            if pointwise:
                gx[n, :, ::sh, ::sw] = gcol.reshape(C, Ho, Wo)
            else:
                gx[n] = col2im(gcol, 1, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)[0]
    return gx, (np.ascontiguousarray(gwt.T).reshape(weight.shape) if need[1] else None)
    # END SOLUTION


def _conv2d_forward_twin(x, weight, bias, stride, padding, dilation, groups, return_columns=False):
    y = conv2d_forward_reference(x, weight, bias, stride, padding, dilation, groups)
    return (y, None) if return_columns else y


def _conv2d_backward_twin(grad_out, x, weight, stride, padding, dilation, groups, need=(True, True, True),
                          col=None):
    return conv2d_backward_reference(grad_out, x, weight, stride, padding, dilation, groups, need)


conv2d_forward = pick(_conv2d_forward_fast, _conv2d_forward_twin)
conv2d_forward.__doc__ = """y = conv2d(x, w, b): see the module docstring.  Pairs are (h, w) tuples.

``return_columns=True`` also returns the im2col array (for reuse by the backward)."""
conv2d_backward = pick(_conv2d_backward_fast, _conv2d_backward_twin)
