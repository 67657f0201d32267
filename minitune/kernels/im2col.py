r"""``im2col`` / ``col2im``: unfold the receptive fields of a convolution into columns, and fold back.

For an input x of shape (N, C, H, W), a kernel kh×kw, stride s, padding p, dilation d, the
column array has shape (C·kh·kw, N·Ho·Wo) and

    col[(c·kh + i)·kw + j, n·Ho·Wo + oh·Wo + ow] = x_pad[n, c, oh·s_h + i·d_h, ow·s_w + j·d_w]

(x_pad is x with p zeros on each side; out-of-range reads are 0).  The row index
(c, i, j) matches ``weight.reshape(O, C·kh·kw)``, and the whole batch sits side by side in
the columns, so a convolution is *one* GEMM, ``out = W₂ · col`` of shape (O, N·Ho·Wo) —
one large BLAS call instead of N skinny ones (ResNet-18's last stage has Ho·Wo = 49).

``col2im`` is the adjoint (transpose) of ``im2col``: every column entry is *added* back to
the input pixel it was read from (overlapping windows accumulate; padded positions are
dropped).  ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ — the test suite checks this identity.

Performance contract (the numba kernels ``_im2col_numba`` / ``_col2im_numba``): ``im2col``'s
outer ``prange`` is over the C·kh·kw rows of col (each iteration writes whole rows: no
races); ``col2im``'s is over the C channels (each owns the plane x[:, c]: no races, no
atomics) — serial unless ``MINITUNE_NUMBA_PARALLEL=1``, see jit.py.  The valid range of ow is
computed once per kernel column j, by ``_valid_ranges`` in Python, so there is no bounds test per
element.  With stride 1 and Wo = W (a "same" convolution) an im2col row of one sample is the
flattened input plane shifted by a constant: one contiguous copy per (row, sample), plus zeros at
the row edges.  Otherwise the inner loops run over the flat arrays with *unsigned* indices: numba
then emits no negative-index wrap-around test and LLVM vectorizes the loop.  The kernels take
flat views of x and col (made by numpy, with the shape as a tuple): numba's ``reshape`` compiled
for ~0.3 s of a first forward.  The output array is allocated by numpy, not numba (numpy asks the
kernel for huge pages).  Timings: benchmarks/README.md.
"""
import numpy as np

from .jit import NO_JIT, njit, prange


# ---------------------------------------------------------------- numpy twins (slow, obviously right)

def im2col_reference(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out=None):
    """numpy twin: one strided slice of the padded input per kernel offset (i, j)."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            window = xp[:, :, i * dh: i * dh + sh * (Ho - 1) + 1: sh, j * dw: j * dw + sw * (Wo - 1) + 1: sw]
            col[:, i, j] = window.transpose(1, 0, 2, 3)
    col = col.reshape(C * kh * kw, N * Ho * Wo)
    if out is not None:
        out[...] = col
        return out
    return col


def col2im_reference(col, N, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out=None):
    """numpy twin of the adjoint: add each kernel offset's slice back into the padded image."""
    C = col.shape[0] // (kh * kw)
    col = col.reshape(C, kh, kw, N, Ho, Wo)
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            window = col[:, i, j].transpose(1, 0, 2, 3)
            xp[:, :, i * dh: i * dh + sh * (Ho - 1) + 1: sh, j * dw: j * dw + sw * (Wo - 1) + 1: sw] += window
    if out is not None:
        out[...] = xp[:, :, ph: ph + H, pw: pw + W]
        return out
    return xp[:, :, ph: ph + H, pw: pw + W].copy()


# ---------------------------------------------------------------- the public kernels

def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out=None):
    """col[(c·kh + i)·kw + j, n·Ho·Wo + oh·Wo + ow] = x_pad[n, c, oh·s_h + i·d_h, ow·s_w + j·d_w].

    x (N, C, H, W) → col (C·kh·kw, N·Ho·Wo), written into ``out`` when given.  Fast: the numba
    kernel (see the module docstring); the numpy twin ``im2col_reference`` with ``MINITUNE_NO_JIT=1``.
    """
    if NO_JIT:
        return im2col_reference(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out)
    N, C, H, W = x.shape
    col = np.empty((C * kh * kw, N * Ho * Wo), dtype=x.dtype) if out is None else out
    _im2col_numba(np.ascontiguousarray(x).reshape(-1), _flat(col, "out"), x.shape, kh, kw, sh, sw, ph, dh,
                  _valid_ranges(kw, dw, sw, pw, W, Wo), Ho, Wo)
    return col


def col2im(col, N, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out=None):
    """The adjoint of ``im2col``: x[n, c, h, w] = Σ of the column entries read from (h, w) (overlaps add).

    col (C·kh·kw, N·Ho·Wo) → x (N, C, H, W), a fresh array, or written into ``out`` (contiguous)
    when given.  Fast: the numba kernel; the numpy twin ``col2im_reference`` with ``MINITUNE_NO_JIT=1``.
    """
    if NO_JIT:
        return col2im_reference(col, N, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out)
    if out is None:
        x = np.zeros((N, col.shape[0] // (kh * kw), H, W), dtype=col.dtype)
    else:
        x = out
        x[...] = 0
    _col2im_numba(np.ascontiguousarray(col).reshape(-1), _flat(x, "out"), x.shape, kh, kw, sh, sw, ph, dh,
                  _valid_ranges(kw, dw, sw, pw, W, Wo), Ho, Wo)
    return x


# ---------------------------------------------------------------- numba kernels

def _flat(a, name):
    """The flat view of the C-contiguous array ``a`` that a kernel writes into (ValueError if ``a`` is not one)."""
    if not a.flags.c_contiguous:
        raise ValueError(f"im2col/col2im: {name} must be C-contiguous")
    return a.reshape(-1)


def _valid_ranges(kw, dw, sw, pw, W, Wo):
    """ranges[j] = (off, lo, hi): the input column off = j·d_w − p_w read by ow = 0, and the ow for which
    0 ≤ ow·s_w + off < W, [lo, hi) — per kernel column j, computed here rather than in numba (a compiled
    function of its own, with numba's min and max, cost 0.1-0.3 s of a first forward's compile)."""
    ranges = np.empty((kw, 3), dtype=np.int64)
    for j in range(kw):
        off = j * dw - pw
        lo = 0 if off >= 0 else (-off + sw - 1) // sw
        hi = 0 if W - off <= 0 else min(Wo, (W - off + sw - 1) // sw)
        ranges[j] = off, lo, max(lo, hi)
    return ranges


# Explicit loops rather than slice assignments (``cf[a:b] = 0``, ``cf[a:b] = xf[c:d]``): numba compiles
# a slice assignment through its general broadcasting machinery.  With five of them ``_im2col_numba``
# took 2.85 s to compile, most of the cold start of a first forward; with these loops 1.15 s, and
# the kernel runs 10-35 % faster (unsigned indices, no slice objects).  ``inline=True`` (jit.py): the
# loops are pasted into the kernel, not compiled as functions of their own (AMD EPYC VM: im2col's
# compile 1.29 -> 0.96 s, median of 5).

@njit(inline=True)
def _fill_zero(f, lo, hi):
    """f[lo:hi] = 0 (flat array)."""
    for k in range(np.uint64(lo), np.uint64(hi)):
        f[k] = 0


@njit(inline=True)
def _copy(src, s0, dst, d0, n):
    """dst[d0:d0 + n] = src[s0:s0 + n] (flat arrays)."""
    s, d = np.uint64(s0), np.uint64(d0)
    for k in range(np.uint64(n)):
        dst[d + k] = src[s + k]


@njit(parallel=True)
def _im2col_numba(xf, cf, shape, kh, kw, sh, sw, ph, dh, ranges, Ho, Wo):
    """Fills col (C·kh·kw, N·Ho·Wo) from x: prange over the rows of col, one contiguous shifted copy
    per (row, sample) for stride-1 "same" rows, else a vectorized unsigned-index loop per output row.

    xf, cf: x and col flattened (C order); shape = (N, C, H, W), x's; ranges[j] = (off, lo, hi) for
    kernel column j (``_valid_ranges``: off = j·d_w − p_w, and col's entries for ow in [lo, hi) read
    the input, the others are padding zeros)."""
    # BEGIN SOLUTION A2: implement the numba im2col kernel (unfold every receptive field into a column)
    N, C, H, W = shape
    L = Ho * Wo
    # stride 1 with Wo = W ("same" width): in the flattened plane, col[r, n·L + q] = x[n, c].flat[q + δ]
    # with δ = (i·d_h − p_h)·W + j·d_w − p_w — one contiguous copy per (r, n), then the ow outside
    # [lo, hi) (which read the neighbouring row) are zeroed.  3-4x faster than a copy per output row.
    shifted = sh == 1 and sw == 1 and Wo == W
    NL = N * L
    for r in prange(C * kh * kw):
        c = r // (kh * kw)
        i = (r // kw) % kh
        j = r % kw
        off, lo, hi = ranges[j, 0], ranges[j, 1], ranges[j, 2]
        if shifted:
            delta = (i * dh - ph) * W + off
            qlo = 0 if delta >= 0 else -delta  # [qlo, qhi): the q with 0 ≤ q + δ < H·W
            qhi = L if H * W - delta >= L else H * W - delta
            qhi = qlo if qhi < qlo else qhi
            for n in range(N):
                base = r * NL + n * L  # into the flat col
                src = (n * C + c) * H * W + delta  # into the flat x
                _fill_zero(cf, base, base + qlo)
                _copy(xf, src + qlo, cf, base + qlo, qhi - qlo)
                _fill_zero(cf, base + qhi, base + L)
                if lo > 0 or hi < Wo:
                    for oh in range(Ho):
                        _fill_zero(cf, base + oh * Wo, base + oh * Wo + lo)
                        _fill_zero(cf, base + oh * Wo + hi, base + (oh + 1) * Wo)
            continue
        for n in range(N):
            for oh in range(Ho):
                h = oh * sh - ph + i * dh
                base = r * NL + n * L + oh * Wo  # into the flat col
                if h < 0 or h >= H:
                    _fill_zero(cf, base, base + Wo)
                    continue
                _fill_zero(cf, base, base + lo)
                # unsigned indices: numba then drops its negative-index wrap-around test, and LLVM
                # vectorizes the loop (2-3x faster than a slice copy for the short rows of layer3-4)
                src = np.uint64(((n * C + c) * H + h) * W + off + lo * sw)
                dst = np.uint64(base + lo)
                step = np.uint64(sw)
                for k in range(np.uint64(hi - lo)):
                    cf[dst + k] = xf[src + k * step]
                _fill_zero(cf, base + hi, base + Wo)
    # END SOLUTION


@njit(parallel=True)
def _col2im_numba(cf, xf, shape, kh, kw, sh, sw, ph, dh, ranges, Ho, Wo):
    """Adds col back into x (zeroed by the caller): prange over channels (each owns its planes: no
    races), a vectorized unsigned-index loop per (row of col, output row).  Arguments as
    ``_im2col_numba``'s (cf, xf: col and x flattened; shape: x's)."""
    N, C, H, W = shape
    L = Ho * Wo
    NL = N * L
    for c in prange(C):
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                off, lo, hi = ranges[j, 0], ranges[j, 1], ranges[j, 2]
                for n in range(N):
                    for oh in range(Ho):
                        h = oh * sh - ph + i * dh
                        if h < 0 or h >= H:
                            continue
                        # x[n, c, h, ow·sw + off] += col[r, n·L + oh·Wo + ow] for ow in [lo, hi);
                        # unsigned indices let LLVM vectorize (see _im2col_numba): 2.5-3x faster
                        src = np.uint64(r * NL + n * L + oh * Wo + lo)
                        dst = np.uint64(((n * C + c) * H + h) * W + off + lo * sw)
                        step = np.uint64(sw)
                        for k in range(np.uint64(hi - lo)):
                            xf[dst + k * step] += cf[src + k]
