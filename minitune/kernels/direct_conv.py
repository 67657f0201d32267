r"""Direct convolution: y = conv2d(x, w) without im2col, for a small reduction C·kh·kw over a large plane.

A ResNet stem (3 channels, 7×7, stride 2, 224×224 images) unfolds each image into a 147 × 12544
im2col matrix — 7.4 MB written and read back per image, for a GEMM of only 147 terms per output,
which numpy's BLAS runs at ~90 GFLOP/s.  Here each output is summed straight from the input:

    y[n, o, oh, ow] = b[o] + Σ_{c, i, j} w[o, c, i, j] · xp[n, c, s·oh + i, s·ow + j]

(xp: x zero-padded by (ph, pw); stride s ∈ {1, 2} in both axes).  Two steps per image:

1. **Phases.**  With stride 2 the columns s·ow + j of consecutive outputs are every other input
   column; split each padded input row into its even and odd columns (s phases; with stride 1,
   one phase: the padded row),

       P[c, φ, r, m] = xp[c, r, s·m + φ],     so that     xp[c, s·oh + i, s·ow + j] = P[c, j mod s, s·oh + i, ow + j div s],

   and for a fixed (c, i, j) consecutive ow read consecutive numbers of P: a SIMD vector.
2. **Micro-kernel**, a BLAS micro-kernel's register tile with the columns of B read from P: for 8
   output channels and a tile of 2 output rows × LANES columns (16 vector accumulators), for each
   of the K = C·kh·kw terms k = (c, i, j) load the two rows of P at offset ``off[k]``, broadcast
   w[o, k] for the 8 channels, 16 fused multiply-adds.  The 8 channels' weights (8·K numbers) stay
   in L1 while the tile sweeps the image; P (0.8 MB for the stem) stays in L2.  That tile needs 19
   vector registers (16 accumulators, 2 rows, a weight): AVX-512 has 32, AVX2 only 16, where the
   accumulators spilled to memory; with 16 registers the tile is 4 channels × 3 rows instead
   (12 accumulators, 3 rows, a weight: ``_direct_tiles_4x3``).

The weight gradient is summed the same way, grad_w[o, k] = Σ_{n, oh, ow} g[n, o, oh, ow] · (the
number of P that term k reads for output (oh, ow)): a tile of 4 channels × 4 terms holds 16 vectors
of partial sums (lane l sums the outputs ow ≡ l), loads 4 vectors of g and 4 of P per 16 fused
multiply-adds, and adds its lanes at the end (``vsum``); with 16 registers, 4 channels × 3 terms.

Measured (benchmarks/README.md): the stem at batch 8 on 2 threads, forward 18.2 → 7.5 ms (torch
8.5), the kernel at 137–159 GFLOP/s on one core; its weight gradient 19.4 → 13–15 ms (torch 11–12)
(Intel Xeon, AVX-512).  On an AMD EPYC with AVX2 (~78 GFLOP/s peak per core) the 8 × 2 tiles ran at
29 (forward) and 22 GFLOP/s (weight gradient), the 4 × 3 tiles at 55 and 53.
Where K is larger (a 3×3 layer: K = 9·C) im2col + BLAS stays faster: its GEMM reuses each
unfolded column for every output channel from cache.  Used by conv2d.py for batches (not one
image), groups = 1, no dilation, stride 1 or 2 (the same in both axes), a multiple of 8 output
channels, K ≤ ``MAX_TERMS`` and output rows of at least ``MIN_WIDTH`` pixels; grad_input (not
needed for a stem: its input is the images) stays on im2col's adjoint.

Read ``direct_conv2d_reference`` and ``direct_conv2d_grad_weight_reference`` first: the same
steps in numpy.
"""
import numpy as np

from .jit import njit
from .simd import LANES, REGISTERS, copy_row, veven, vfma, vload, vload_first, vodd, vsplat, vstore, vstore_first, vsum, vzero
from .threads import run_parts, split
from .workspace import scratch

MAX_TERMS = 256   # K = C·kh·kw up to this: a channel block's weights and a tile's rows of P stay in L1
MIN_WIDTH = 32    # output rows at least this wide: the vectors of a tile row are mostly full
MIN_SAMPLES = 2   # see direct_applies


def _micro_kernels():
    """(forward, grad_weight) register tiles for this CPU's ``REGISTERS`` (simd.py): 8 channels × 2 rows
    and 4 channels × 4 terms (16 accumulators) with 32 registers, 4 × 3 (12 accumulators) with 16."""
    if REGISTERS >= 32:
        return _direct_tiles, _grad_weight_tiles
    return _direct_tiles_4x3, _grad_weight_tiles_4x3


def direct_applies(x_shape, out_channels, kernel, stride, padding, dilation, groups):
    """True for the convolutions conv2d.py sends here (see the module docstring).  Not for one image
    (``minitune predict``): the gain is a millisecond, compiling the kernel in a process with an empty
    numba cache costs ~1 s (the cold start, benchmarks/README.md)."""
    Wo = (x_shape[3] + 2 * padding[1] - kernel[1]) // stride[1] + 1
    return (x_shape[0] >= MIN_SAMPLES and groups == 1 and tuple(dilation) == (1, 1)
            and stride[0] == stride[1] and stride[0] in (1, 2) and out_channels % 8 == 0
            and x_shape[1] * kernel[0] * kernel[1] <= MAX_TERMS and Wo >= MIN_WIDTH)


def _geometry(H, W, kh, kw, s, ph, pw):
    """(Ho, Wo, Hp, Mw): the output size; the rows of a phase plane (the padded input's, and enough for
    the second row of the last tile); its width (the phase's columns, and enough for whole vectors)."""
    Ho, Wo = (H + 2 * ph - kh) // s + 1, (W + 2 * pw - kw) // s + 1
    Hp = max(H + 2 * ph, s * (Ho + 1) + kh)
    Mw = max(-(-(W + 2 * pw) // s), -(-Wo // LANES) * LANES + (kw - 1) // s + 1)
    return Ho, Wo, Hp, Mw


def _offsets(C, kh, kw, s, Hp, Mw):
    """off[k] for k = (c, i, j) in weight order: where term k of output (0, 0) sits in the flat phases."""
    c, i, j = np.meshgrid(np.arange(C), np.arange(kh), np.arange(kw), indexing="ij")
    return (((c * s + j % s) * Hp + i) * Mw + j // s).reshape(-1).astype(np.int64)


# ---------------------------------------------------------------- numpy twin

def direct_conv2d_reference(x, weight, bias, stride, padding):
    """numpy twin: the phases P, then y = Σ_k w[:, k] ⊗ (rows s·oh + i, columns ow + j div s of P[c, j mod s])."""
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    s, (ph, pw) = stride[0], padding
    Ho, Wo, Hp, Mw = _geometry(H, W, kh, kw, s, ph, pw)
    xp = np.zeros((N, C, Hp, s * Mw), dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    P = np.stack([xp[..., φ::s] for φ in range(s)], axis=2)  # (N, C, s, Hp, Mw)
    y = np.zeros((N, O, Ho, Wo), dtype=x.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                rows = P[:, c, j % s, i:i + s * Ho:s, j // s:j // s + Wo]  # (N, Ho, Wo)
                y += weight[None, :, c, i, j, None, None] * rows[:, None]
    if bias is not None:
        y += bias[None, :, None, None]
    return y


def direct_conv2d_grad_weight_reference(grad_out, x, weight_shape, stride, padding):
    """numpy twin: grad_w[o, c, i, j] = Σ_{n, oh, ow} g[n, o, oh, ow] · (the number of P that term (c, i, j)
    reads for output (oh, ow))."""
    N, C, H, W = x.shape
    O, _, kh, kw = weight_shape
    s, (ph, pw) = stride[0], padding
    Ho, Wo, Hp, Mw = _geometry(H, W, kh, kw, s, ph, pw)
    xp = np.zeros((N, C, Hp, s * Mw), dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    P = np.stack([xp[..., φ::s] for φ in range(s)], axis=2)
    grad_w = np.zeros(weight_shape, dtype=x.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                rows = P[:, c, j % s, i:i + s * Ho:s, j // s:j // s + Wo]  # (N, Ho, Wo)
                grad_w[:, c, i, j] = np.einsum("nohw,nhw->o", grad_out, rows)
    return grad_w


# ---------------------------------------------------------------- numba kernels

@njit()
def _phases(x, s, ph, pw, P):
    """P[c, φ, ph + h, …] = the even (φ = 0) and odd (φ = 1) columns of row h of x (C, H, W) padded by
    pw columns, or that padded row itself (s = 1); P zero everywhere else (it is zeroed here)."""
    C, H, W = x.shape
    Mw = P.shape[3]
    P.fill(0)
    vectors = -(-Mw // LANES) * LANES  # the columns of P written, whole vectors
    width = max(pw + -(-W // LANES) * LANES, s * vectors + LANES)
    row = np.zeros((1, width), dtype=x.dtype)  # one padded input row: row[pw + w] = x[c, h, w], zeros around
    for c in range(C):
        for h in range(H):
            copy_row(x[c], h, W, pw, row)
            for m in range(0, Mw, LANES):
                k = min(LANES, Mw - m)
                if s == 1:
                    vstore_first(P[c, 0], ph + h, m, vload(row, 0, m), k)
                else:
                    u, v = vload(row, 0, 2 * m), vload(row, 0, 2 * m + LANES)
                    vstore_first(P[c, 0], ph + h, m, veven(u, v), k)
                    vstore_first(P[c, 1], ph + h, m, vodd(u, v), k)


@njit()
def _direct_tiles(P, wp, off, bias, y, s):
    """y[o, oh, ow] of one image, 8 channels at a time: for each block of 8 (its weights wp[ob] (K, 8)
    in L1), tiles of 2 rows × LANES columns, 16 accumulators (module docstring)."""
    O, Ho, Wo = y.shape
    K = wp.shape[1]
    Pf = P.reshape(1, P.size)
    row = s * P.shape[3]  # from output row oh to oh + 1 in P
    for ob in range(wp.shape[0]):
        a = wp[ob]
        o = 8 * ob
        for oh in range(0, Ho, 2):
            for ow in range(0, Wo, LANES):
                c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = vzero(Pf)
                c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = vzero(Pf)
                base = oh * row + ow
                for k in range(K):
                    q = base + off[k]
                    x0, x1 = vload(Pf, 0, q), vload(Pf, 0, q + row)  # term k of rows oh, oh + 1
                    w = vsplat(a[k, 0])
                    c00, c01 = vfma(w, x0, c00), vfma(w, x1, c01)
                    w = vsplat(a[k, 1])
                    c10, c11 = vfma(w, x0, c10), vfma(w, x1, c11)
                    w = vsplat(a[k, 2])
                    c20, c21 = vfma(w, x0, c20), vfma(w, x1, c21)
                    w = vsplat(a[k, 3])
                    c30, c31 = vfma(w, x0, c30), vfma(w, x1, c31)
                    w = vsplat(a[k, 4])
                    c40, c41 = vfma(w, x0, c40), vfma(w, x1, c41)
                    w = vsplat(a[k, 5])
                    c50, c51 = vfma(w, x0, c50), vfma(w, x1, c51)
                    w = vsplat(a[k, 6])
                    c60, c61 = vfma(w, x0, c60), vfma(w, x1, c61)
                    w = vsplat(a[k, 7])
                    c70, c71 = vfma(w, x0, c70), vfma(w, x1, c71)
                n = min(LANES, Wo - ow)  # the columns this tile has (the last tile of a row: fewer)
                b = vsplat(bias[o])
                vstore_first(y[o], oh, ow, c00 + b, n)
                b = vsplat(bias[o + 1])
                vstore_first(y[o + 1], oh, ow, c10 + b, n)
                b = vsplat(bias[o + 2])
                vstore_first(y[o + 2], oh, ow, c20 + b, n)
                b = vsplat(bias[o + 3])
                vstore_first(y[o + 3], oh, ow, c30 + b, n)
                b = vsplat(bias[o + 4])
                vstore_first(y[o + 4], oh, ow, c40 + b, n)
                b = vsplat(bias[o + 5])
                vstore_first(y[o + 5], oh, ow, c50 + b, n)
                b = vsplat(bias[o + 6])
                vstore_first(y[o + 6], oh, ow, c60 + b, n)
                b = vsplat(bias[o + 7])
                vstore_first(y[o + 7], oh, ow, c70 + b, n)
                if oh + 1 < Ho:  # the tile's second row (the last tile of an odd Ho has none)
                    b = vsplat(bias[o])
                    vstore_first(y[o], oh + 1, ow, c01 + b, n)
                    b = vsplat(bias[o + 1])
                    vstore_first(y[o + 1], oh + 1, ow, c11 + b, n)
                    b = vsplat(bias[o + 2])
                    vstore_first(y[o + 2], oh + 1, ow, c21 + b, n)
                    b = vsplat(bias[o + 3])
                    vstore_first(y[o + 3], oh + 1, ow, c31 + b, n)
                    b = vsplat(bias[o + 4])
                    vstore_first(y[o + 4], oh + 1, ow, c41 + b, n)
                    b = vsplat(bias[o + 5])
                    vstore_first(y[o + 5], oh + 1, ow, c51 + b, n)
                    b = vsplat(bias[o + 6])
                    vstore_first(y[o + 6], oh + 1, ow, c61 + b, n)
                    b = vsplat(bias[o + 7])
                    vstore_first(y[o + 7], oh + 1, ow, c71 + b, n)


@njit()
def _store_row(y, o, oh, ow, n, bias, c0, c1, c2, c3):
    """y[o + r, oh, ow : ow + n] = c_r + bias[o + r] for the 4 channels r of a tile row."""
    vstore_first(y[o], oh, ow, c0 + vsplat(bias[o]), n)
    vstore_first(y[o + 1], oh, ow, c1 + vsplat(bias[o + 1]), n)
    vstore_first(y[o + 2], oh, ow, c2 + vsplat(bias[o + 2]), n)
    vstore_first(y[o + 3], oh, ow, c3 + vsplat(bias[o + 3]), n)


@njit()
def _direct_tiles_4x3(P, wp, off, bias, y, s):
    """``_direct_tiles`` for a CPU with 16 vector registers (AVX2): tiles of 4 channels × 3 rows, 12
    accumulators, 3 rows of P and one broadcast weight in the other 4 (8 × 2 would need 19 registers,
    and the accumulators spilled to memory).  Each block of 8 channels in two halves of 4."""
    O, Ho, Wo = y.shape
    K = wp.shape[1]
    Pf = P.reshape(1, P.size)
    row = s * P.shape[3]
    for ob in range(wp.shape[0]):
        a = wp[ob]
        for r in range(0, 8, 4):
            o = 8 * ob + r
            for oh in range(0, Ho, 3):
                for ow in range(0, Wo, LANES):
                    c00 = c01 = c02 = c10 = c11 = c12 = vzero(Pf)
                    c20 = c21 = c22 = c30 = c31 = c32 = vzero(Pf)
                    base = oh * row + ow
                    for k in range(K):
                        q = base + off[k]
                        x0, x1, x2 = vload(Pf, 0, q), vload(Pf, 0, q + row), vload(Pf, 0, q + 2 * row)
                        w = vsplat(a[k, r])
                        c00, c01, c02 = vfma(w, x0, c00), vfma(w, x1, c01), vfma(w, x2, c02)
                        w = vsplat(a[k, r + 1])
                        c10, c11, c12 = vfma(w, x0, c10), vfma(w, x1, c11), vfma(w, x2, c12)
                        w = vsplat(a[k, r + 2])
                        c20, c21, c22 = vfma(w, x0, c20), vfma(w, x1, c21), vfma(w, x2, c22)
                        w = vsplat(a[k, r + 3])
                        c30, c31, c32 = vfma(w, x0, c30), vfma(w, x1, c31), vfma(w, x2, c32)
                    n = min(LANES, Wo - ow)
                    _store_row(y, o, oh, ow, n, bias, c00, c10, c20, c30)
                    if oh + 1 < Ho:
                        _store_row(y, o, oh + 1, ow, n, bias, c01, c11, c21, c31)
                    if oh + 2 < Ho:
                        _store_row(y, o, oh + 2, ow, n, bias, c02, c12, c22, c32)


# The weight gradient's partial sums, per band of BAND output rows: a band of 4 channels of g stays in L1
# while the 4 × 4 tiles of (channel, term) pass over it.
BAND = 4


@njit()
def _grad_weight_tiles(P, g, off, s, partial):
    """partial[o, k] += the lanes of Σ_{oh, ow} g[o, oh, ow] · P[off[k] + s·oh·Mw + ow], for one image:
    tiles of 4 channels × 4 terms (16 vectors of partial sums), LANES columns at a time.  A band of
    BAND rows of 4 channels of g is first copied into ``band``, its rows zero-padded to whole vectors
    (so every load is a whole vector, and the lanes past Wo add 0); the tile's sums are carried from
    band to band in ``partial`` (O, K, LANES)."""
    O, Ho, Wo = g.shape
    K = off.shape[0]
    Pf = P.reshape(1, P.size)
    row = s * P.shape[3]
    K4 = K - K % 4
    width = -(-Wo // LANES) * LANES
    band = np.zeros((4 * BAND, width), dtype=g.dtype)  # band[BAND·r + oh − h0] = g[o + r, oh], zero-padded
    for h0 in range(0, Ho, BAND):
        h1 = min(Ho, h0 + BAND)
        for o in range(0, O, 4):
            for r in range(4):
                for oh in range(h0, h1):
                    for ow in range(0, Wo, LANES):
                        vstore(band, BAND * r + oh - h0, ow, vload_first(g[o + r], oh, ow, min(LANES, Wo - ow)))
            for k in range(0, K4, 4):
                p0, p1, p2, p3 = partial[o], partial[o + 1], partial[o + 2], partial[o + 3]
                s00, s01, s02, s03 = vload(p0, k, 0), vload(p0, k + 1, 0), vload(p0, k + 2, 0), vload(p0, k + 3, 0)
                s10, s11, s12, s13 = vload(p1, k, 0), vload(p1, k + 1, 0), vload(p1, k + 2, 0), vload(p1, k + 3, 0)
                s20, s21, s22, s23 = vload(p2, k, 0), vload(p2, k + 1, 0), vload(p2, k + 2, 0), vload(p2, k + 3, 0)
                s30, s31, s32, s33 = vload(p3, k, 0), vload(p3, k + 1, 0), vload(p3, k + 2, 0), vload(p3, k + 3, 0)
                q0, q1, q2, q3 = off[k], off[k + 1], off[k + 2], off[k + 3]
                for oh in range(h0, h1):
                    b = oh - h0
                    for ow in range(0, width, LANES):
                        q = oh * row + ow
                        x0, x1 = vload(Pf, 0, q + q0), vload(Pf, 0, q + q1)
                        x2, x3 = vload(Pf, 0, q + q2), vload(Pf, 0, q + q3)
                        d = vload(band, b, ow)
                        s00, s01, s02, s03 = vfma(d, x0, s00), vfma(d, x1, s01), vfma(d, x2, s02), vfma(d, x3, s03)
                        d = vload(band, BAND + b, ow)
                        s10, s11, s12, s13 = vfma(d, x0, s10), vfma(d, x1, s11), vfma(d, x2, s12), vfma(d, x3, s13)
                        d = vload(band, 2 * BAND + b, ow)
                        s20, s21, s22, s23 = vfma(d, x0, s20), vfma(d, x1, s21), vfma(d, x2, s22), vfma(d, x3, s23)
                        d = vload(band, 3 * BAND + b, ow)
                        s30, s31, s32, s33 = vfma(d, x0, s30), vfma(d, x1, s31), vfma(d, x2, s32), vfma(d, x3, s33)
                vstore(p0, k, 0, s00)
                vstore(p0, k + 1, 0, s01)
                vstore(p0, k + 2, 0, s02)
                vstore(p0, k + 3, 0, s03)
                vstore(p1, k, 0, s10)
                vstore(p1, k + 1, 0, s11)
                vstore(p1, k + 2, 0, s12)
                vstore(p1, k + 3, 0, s13)
                vstore(p2, k, 0, s20)
                vstore(p2, k + 1, 0, s21)
                vstore(p2, k + 2, 0, s22)
                vstore(p2, k + 3, 0, s23)
                vstore(p3, k, 0, s30)
                vstore(p3, k + 1, 0, s31)
                vstore(p3, k + 2, 0, s32)
                vstore(p3, k + 3, 0, s33)
            for k in range(K4, K):  # the last K mod 4 terms, one at a time
                for r in range(4):
                    acc = vload(partial[o + r], k, 0)
                    for oh in range(h0, h1):
                        for ow in range(0, width, LANES):
                            acc = vfma(vload(band, BAND * r + oh - h0, ow), vload(Pf, 0, oh * row + ow + off[k]), acc)
                    vstore(partial[o + r], k, 0, acc)


@njit()
def _grad_weight_tiles_4x3(P, g, off, s, partial):
    """``_grad_weight_tiles`` for a CPU with 16 vector registers (AVX2): tiles of 4 channels × 3 terms, 12
    vectors of partial sums, 3 vectors of P and one of g in the other 4 (4 × 4 would need 21)."""
    O, Ho, Wo = g.shape
    K = off.shape[0]
    Pf = P.reshape(1, P.size)
    row = s * P.shape[3]
    K3 = K - K % 3
    width = -(-Wo // LANES) * LANES
    band = np.zeros((4 * BAND, width), dtype=g.dtype)
    for h0 in range(0, Ho, BAND):
        h1 = min(Ho, h0 + BAND)
        for o in range(0, O, 4):
            for r in range(4):
                for oh in range(h0, h1):
                    for ow in range(0, Wo, LANES):
                        vstore(band, BAND * r + oh - h0, ow, vload_first(g[o + r], oh, ow, min(LANES, Wo - ow)))
            for k in range(0, K3, 3):
                p0, p1, p2, p3 = partial[o], partial[o + 1], partial[o + 2], partial[o + 3]
                s00, s01, s02 = vload(p0, k, 0), vload(p0, k + 1, 0), vload(p0, k + 2, 0)
                s10, s11, s12 = vload(p1, k, 0), vload(p1, k + 1, 0), vload(p1, k + 2, 0)
                s20, s21, s22 = vload(p2, k, 0), vload(p2, k + 1, 0), vload(p2, k + 2, 0)
                s30, s31, s32 = vload(p3, k, 0), vload(p3, k + 1, 0), vload(p3, k + 2, 0)
                q0, q1, q2 = off[k], off[k + 1], off[k + 2]
                for oh in range(h0, h1):
                    b = oh - h0
                    for ow in range(0, width, LANES):
                        q = oh * row + ow
                        x0, x1, x2 = vload(Pf, 0, q + q0), vload(Pf, 0, q + q1), vload(Pf, 0, q + q2)
                        d = vload(band, b, ow)
                        s00, s01, s02 = vfma(d, x0, s00), vfma(d, x1, s01), vfma(d, x2, s02)
                        d = vload(band, BAND + b, ow)
                        s10, s11, s12 = vfma(d, x0, s10), vfma(d, x1, s11), vfma(d, x2, s12)
                        d = vload(band, 2 * BAND + b, ow)
                        s20, s21, s22 = vfma(d, x0, s20), vfma(d, x1, s21), vfma(d, x2, s22)
                        d = vload(band, 3 * BAND + b, ow)
                        s30, s31, s32 = vfma(d, x0, s30), vfma(d, x1, s31), vfma(d, x2, s32)
                vstore(p0, k, 0, s00)
                vstore(p0, k + 1, 0, s01)
                vstore(p0, k + 2, 0, s02)
                vstore(p1, k, 0, s10)
                vstore(p1, k + 1, 0, s11)
                vstore(p1, k + 2, 0, s12)
                vstore(p2, k, 0, s20)
                vstore(p2, k + 1, 0, s21)
                vstore(p2, k + 2, 0, s22)
                vstore(p3, k, 0, s30)
                vstore(p3, k + 1, 0, s31)
                vstore(p3, k + 2, 0, s32)
            for k in range(K3, K):  # the last K mod 3 terms, one at a time
                for r in range(4):
                    acc = vload(partial[o + r], k, 0)
                    for oh in range(h0, h1):
                        for ow in range(0, width, LANES):
                            acc = vfma(vload(band, BAND * r + oh - h0, ow), vload(Pf, 0, oh * row + ow + off[k]), acc)
                    vstore(partial[o + r], k, 0, acc)


@njit()
def _lane_sums(partial, out):
    """out[o, k] = Σ_l partial[o, k, l]."""
    for o in range(partial.shape[0]):
        for k in range(partial.shape[1]):
            out[o, k] = vsum(vload(partial[o], k, 0))


def direct_conv2d_grad_weight(grad_out, x, weight_shape, stride, padding):
    """grad_w = Σ_n (the weight gradient of each image), the direct way: the phases of each image, then
    ``_grad_weight_tiles``; no im2col.  The samples in parts, one per thread, their sums added."""
    N, C, H, W = x.shape
    O, _, kh, kw = weight_shape
    s, (ph, pw) = stride[0], padding
    Ho, Wo, Hp, Mw = _geometry(H, W, kh, kw, s, ph, pw)
    K = C * kh * kw
    off = _offsets(C, kh, kw, s, Hp, Mw)
    tiles = _micro_kernels()[1]

    def samples(n0, n1):
        P = scratch((C, s, Hp, Mw), x.dtype, "direct_phases")
        partial = np.zeros((O, K, LANES), dtype=x.dtype)
        for n in range(n0, n1):
            _phases(x[n], s, ph, pw, P)
            tiles(P, grad_out[n], off, s, partial)
        sums = np.empty((O, K), dtype=x.dtype)
        _lane_sums(partial, sums)
        return sums

    parts = run_parts(samples, split(N))
    grad_w = parts[0]
    for p in parts[1:]:
        grad_w += p
    return grad_w.reshape(weight_shape)


def direct_conv2d(x, weight, bias, stride, padding, out=None):
    """y = conv2d(x, w, b) by the direct kernel (x (N, C, H, W), weight (O, C, kh, kw) contiguous, one
    float dtype, O a multiple of 8, stride (s, s) with s ∈ {1, 2}).  The samples in parts, one per
    thread.  Returns y (N, O, Ho, Wo), written into ``out`` when given."""
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    s, (ph, pw) = stride[0], padding
    Ho, Wo, Hp, Mw = _geometry(H, W, kh, kw, s, ph, pw)
    Ob, K = O // 8, C * kh * kw
    wp = np.ascontiguousarray(weight.reshape(Ob, 8, K).transpose(0, 2, 1))  # packed: wp[ob, k, r] = w[8·ob + r, k]
    off = _offsets(C, kh, kw, s, Hp, Mw)
    b = np.zeros(O, dtype=x.dtype) if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    y = np.empty((N, O, Ho, Wo), dtype=x.dtype) if out is None else out
    tiles = _micro_kernels()[0]

    def samples(n0, n1):
        P = scratch((C, s, Hp, Mw), x.dtype, "direct_phases")
        for n in range(n0, n1):
            _phases(x[n], s, ph, pw, P)
            tiles(P, wp, off, b, y[n], s)

    run_parts(samples, split(N))
    return y
