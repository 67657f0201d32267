r"""The numba kernels of Winograd F(2×2, 3×3): the tile transforms and their adjoints.

Read winograd.py first: it derives the matrices Bᵀ, G, Aᵀ, holds the numpy twin and calls
these kernels.  Each kernel computes one line of its formulas for every tile:

    _weight_transform            U[k, o, c] = (G w[o, c] Gᵀ)[ξ, ν]            k = 4ξ + ν
    _input_transform             V[k, c, t] = (Bᵀ d_t B)[ξ, ν]
    _output_transform            y tile t   = Aᵀ M[:, o, t] A + b[o]
    _output_transform_adjoint    Z[k, o, t] = (A g_t Aᵀ)[ξ, ν]
    _input_transform_adjoint     grad_x tile t += B grad_V[:, c, t] Bᵀ
    _weight_transform_adjoint    grad_w[o, c] = Gᵀ grad_U[:, o, c] G

The 16 planes (k) of U, V, M, Z are rows of a (16, stride) array, ``stride`` ≥ the plane size
(see ``planes`` in winograd.py); a kernel transforms the tile rows ty0 ≤ ty < ty1 of every sample
of its x, and t = (n·(ty1 − ty0) + ty − ty0)·tw + tx numbers their 2×2 output tiles.
Performance contract: ``prange`` over channels (each iteration owns whole channels of its
output: no races; serial unless ``MINITUNE_NUMBA_PARALLEL=1``), one pass over the data.
"""
import numpy as np

from .jit import njit, prange
from .simd import LANES, copy_row, veven, vload, vload_first, vodd, vsplat, vstore, vstore_first, vzip_high, vzip_low

# Inside the transforms: SIMD vectors along the tiles of a tile row (simd.py), since LLVM leaves
# these loops scalar by itself (a tile row is 7–28 tiles, shorter than its unrolled vector loop).
# A tile row is kept as its even and odd columns (col 2m → even[m], col 2m + 1 → odd[m]): tile tx
# reads columns 2tx … 2tx + 3, i.e. even[tx], odd[tx], even[tx + 1], odd[tx + 1], so LANES tiles
# read two vectors of each and the shifted pair (tx + 1) is one unaligned load away.  An image row
# is copied into a zero-padded ``row`` (masked loads: nothing past the row is read) and split into
# even and odd columns with ``veven``/``vodd``; the planes are written with masked stores of the
# tail of a tile row, so nothing outside a tile row is touched.  Buffers are padded to whole vectors.


@njit()
def _row_width(tw, W, pad):
    """Length of the padded-row buffer: whole 2·LANES vectors covering the 2·tw + 2 columns of a tile
    row and the image row copied at offset pad."""
    need = max(2 * tw + 2, pad + (W + LANES - 1) // LANES * LANES)
    return (need + 2 * LANES - 1) // (2 * LANES) * (2 * LANES)


@njit()
def _split_row(row, even, odd, a):
    """even[a, m] = row[0, 2m], odd[a, m] = row[0, 2m + 1], for the whole row."""
    for m in range(0, row.shape[1] // 2, LANES):
        u, v = vload(row, 0, 2 * m), vload(row, 0, 2 * m + LANES)
        vstore(even, a, m, veven(u, v))
        vstore(odd, a, m, vodd(u, v))


@njit()
def _tail(j, left, end):
    """The lanes to store at j when ``left`` values remain in this tile row: all LANES while the vector ends
    before ``end`` (the lanes past the row fall on the next tile row of the same channel, which is written
    after this one), else ``left`` (a masked store, slow on AVX2: simd.vstore_first; the layer1 input transform
    on an AMD EPYC 3.1 → 0.6 ms per two samples)."""
    return LANES if j + LANES <= end else min(LANES, left)


@njit(parallel=True)
def _input_transform(x, V, ph, pw, ty0, ty1, tw):
    """V[4ξ + ν, c·T + t] = (Bᵀ d B)[ξ, ν] for every tile t of x (N, C, H, W); V is (16, ≥ C·T) planes."""
    N, C, H, W = x.shape
    T = N * (ty1 - ty0) * tw
    R = _row_width(tw, W, pw)
    for c in prange(C):
        row = np.zeros((1, R), dtype=x.dtype)  # one input row, zero-padded: row[0, pw + w] = x[n, c, h, w]
        ev = np.zeros((4, R // 2 + LANES), dtype=x.dtype)  # the 4 input rows of a tile row: even columns
        od = np.zeros((4, R // 2 + LANES), dtype=x.dtype)  # … odd columns
        ee = np.zeros((4, R // 2 + LANES), dtype=x.dtype)  # after the vertical transform Bᵀ d
        eo = np.zeros((4, R // 2 + LANES), dtype=x.dtype)
        for n in range(N):
            for ty in range(ty0, ty1):
                for a in range(4):
                    h = 2 * ty + a - ph
                    if 0 <= h < H:
                        copy_row(x[n, c], h, W, pw, row)
                        _split_row(row, ev, od, a)
                    else:
                        ev[a, :] = 0
                        od[a, :] = 0
                for m in range(0, tw + 1, LANES):  # Bᵀ d down the columns: (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃)
                    d0, d1, d2, d3 = vload(ev, 0, m), vload(ev, 1, m), vload(ev, 2, m), vload(ev, 3, m)
                    vstore(ee, 0, m, d0 - d2)
                    vstore(ee, 1, m, d1 + d2)
                    vstore(ee, 2, m, d2 - d1)
                    vstore(ee, 3, m, d1 - d3)
                    d0, d1, d2, d3 = vload(od, 0, m), vload(od, 1, m), vload(od, 2, m), vload(od, 3, m)
                    vstore(eo, 0, m, d0 - d2)
                    vstore(eo, 1, m, d1 + d2)
                    vstore(eo, 2, m, d2 - d1)
                    vstore(eo, 3, m, d1 - d3)
                t = c * T + (n * (ty1 - ty0) + ty - ty0) * tw
                for q in range(4):  # then B along row ξ = q: tile tx reads ee[tx], eo[tx], ee[tx + 1], eo[tx + 1]
                    for tx in range(0, tw, LANES):
                        k = _tail(t + tx, tw - tx, (c + 1) * T)
                        d0, d1, d2, d3 = vload(ee, q, tx), vload(eo, q, tx), vload(ee, q, tx + 1), vload(eo, q, tx + 1)
                        vstore_first(V, 4 * q, t + tx, d0 - d2, k)
                        vstore_first(V, 4 * q + 1, t + tx, d1 + d2, k)
                        vstore_first(V, 4 * q + 2, t + tx, d2 - d1, k)
                        vstore_first(V, 4 * q + 3, t + tx, d1 - d3, k)


@njit(parallel=True)
def _output_transform(M, bias, y, ty0, ty1, tw):
    """y[n, o, 2ty + a, 2tx + b] = (Aᵀ M[:, o, t] A)[a, b] + bias[o], clipped to y's size."""
    N, O, Ho, Wo = y.shape
    T = N * (ty1 - ty0) * tw
    width = (tw + LANES - 1) // LANES * LANES
    for o in prange(O):
        p = np.empty((8, width), dtype=y.dtype)  # Aᵀ along each row ξ: p[2ξ] = m₀ + m₁ + m₂, p[2ξ + 1] = m₁ − m₂ − m₃
        out = np.empty((4, width), dtype=y.dtype)  # output rows 0, 1 × even, odd columns
        b = vsplat(bias[o])
        for n in range(N):
            for ty in range(ty0, ty1):
                t = o * T + (n * (ty1 - ty0) + ty - ty0) * tw
                for r in range(4):
                    for tx in range(0, tw, LANES):
                        k = min(LANES, tw - tx)
                        m0, m1 = vload_first(M, 4 * r, t + tx, k), vload_first(M, 4 * r + 1, t + tx, k)
                        m2, m3 = vload_first(M, 4 * r + 2, t + tx, k), vload_first(M, 4 * r + 3, t + tx, k)
                        vstore(p, 2 * r, tx, m0 + m1 + m2)
                        vstore(p, 2 * r + 1, tx, m1 - m2 - m3)
                for tx in range(0, tw, LANES):  # then Aᵀ down the columns
                    p0, p1, p2, p3 = vload(p, 0, tx), vload(p, 1, tx), vload(p, 2, tx), vload(p, 3, tx)
                    p4, p5, p6, p7 = vload(p, 4, tx), vload(p, 5, tx), vload(p, 6, tx), vload(p, 7, tx)
                    vstore(out, 0, tx, p0 + p2 + p4 + b)
                    vstore(out, 1, tx, p1 + p3 + p5 + b)
                    vstore(out, 2, tx, p2 - p4 - p6 + b)
                    vstore(out, 3, tx, p3 - p5 - p7 + b)
                for a in range(2):  # output row 2ty + a: its even and odd columns interleaved
                    h = 2 * ty + a
                    if h >= Ho:
                        break
                    for m in range(0, tw, LANES):
                        e, d = vload(out, 2 * a, m), vload(out, 2 * a + 1, m)
                        vstore_first(y[n, o], h, 2 * m, vzip_low(e, d), min(LANES, Wo - 2 * m))
                        if 2 * m + LANES < Wo:
                            vstore_first(y[n, o], h, 2 * m + LANES, vzip_high(e, d), min(LANES, Wo - 2 * m - LANES))


@njit(parallel=True)
def _output_transform_adjoint(grad_out, Z, ty0, ty1, tw):
    """Z[4ξ + ν, o, t] = (A g Aᵀ)[ξ, ν] for the 2×2 tile g of grad_out (zero past its edges)."""
    N, O, Ho, Wo = grad_out.shape
    T = N * (ty1 - ty0) * tw
    R = _row_width(tw, Wo, 0)
    for o in prange(O):
        row = np.zeros((1, R), dtype=grad_out.dtype)  # one row of grad_out, zero-padded
        g = np.zeros((4, R // 2 + LANES), dtype=grad_out.dtype)  # tile rows 0, 1 × even, odd columns
        q = np.empty((8, R // 2 + LANES), dtype=grad_out.dtype)  # after A down the columns: q[2ξ], q[2ξ + 1] (even, odd)
        for n in range(N):
            for ty in range(ty0, ty1):
                for a in range(2):
                    if 2 * ty + a < Ho:
                        copy_row(grad_out[n, o], 2 * ty + a, Wo, 0, row)
                        _split_row(row, g[2 * a:], g[2 * a + 1:], 0)
                    else:
                        g[2 * a, :] = 0
                        g[2 * a + 1, :] = 0
                for b in range(2):  # A = rows (g₀, g₀ + g₁, g₀ − g₁, −g₁), down the columns
                    for tx in range(0, tw, LANES):
                        g0, g1 = vload(g, b, tx), vload(g, 2 + b, tx)
                        vstore(q, b, tx, g0)
                        vstore(q, 2 + b, tx, g0 + g1)
                        vstore(q, 4 + b, tx, g0 - g1)
                        vstore(q, 6 + b, tx, -g1)
                t = o * T + (n * (ty1 - ty0) + ty - ty0) * tw
                for r in range(4):  # then A along row ξ = r
                    for tx in range(0, tw, LANES):
                        k = _tail(t + tx, tw - tx, (o + 1) * T)
                        a0, a1 = vload(q, 2 * r, tx), vload(q, 2 * r + 1, tx)
                        vstore_first(Z, 4 * r, t + tx, a0, k)
                        vstore_first(Z, 4 * r + 1, t + tx, a0 + a1, k)
                        vstore_first(Z, 4 * r + 2, t + tx, a0 - a1, k)
                        vstore_first(Z, 4 * r + 3, t + tx, -a1, k)


@njit(parallel=True)
def _input_transform_adjoint(grad_V, grad_x, ph, pw, ty0, ty1, tw):
    """grad_x[n, c] += B grad_V[:, c, t] Bᵀ at the 4×4 input tile t (grad_x zeroed by the caller)."""
    N, C, H, W = grad_x.shape
    T = N * (ty1 - ty0) * tw
    R = _row_width(tw, W, pw)
    for c in prange(C):
        he = np.zeros((4, R // 2 + LANES), dtype=grad_x.dtype)  # row ξ after B along the row: even columns
        ho = np.zeros((4, R // 2 + LANES), dtype=grad_x.dtype)  # … odd columns
        row = np.zeros((1, R + 2 * LANES), dtype=grad_x.dtype)  # one input row's columns after B down the columns, interleaved
        for n in range(N):
            for ty in range(ty0, ty1):
                t = c * T + (n * (ty1 - ty0) + ty - ty0) * tw
                for r in range(4):
                    # adjoint of (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃) at tile tx, columns 2tx … 2tx + 3:
                    # even[tx] += v₀, odd[tx] += v₁ − v₂ + v₃, even[tx + 1] += v₁ + v₂ − v₀, odd[tx + 1] −= v₃
                    he[r, :] = 0
                    ho[r, :] = 0
                    for tx in range(0, tw, LANES):
                        k = min(LANES, tw - tx)
                        v0, v1 = vload_first(grad_V, 4 * r, t + tx, k), vload_first(grad_V, 4 * r + 1, t + tx, k)
                        v2, v3 = vload_first(grad_V, 4 * r + 2, t + tx, k), vload_first(grad_V, 4 * r + 3, t + tx, k)
                        vstore(he, r, tx, vload(he, r, tx) + v0)
                        vstore(ho, r, tx, vload(ho, r, tx) + v1 - v2 + v3)
                        vstore(he, r, tx + 1, vload(he, r, tx + 1) + v1 + v2 - v0)
                        vstore(ho, r, tx + 1, vload(ho, r, tx + 1) - v3)
                for a in range(4):  # the same adjoint down the columns, added into grad_x's rows
                    h = 2 * ty + a - ph
                    if h < 0 or h >= H:
                        continue
                    for m in range(0, tw + 1, LANES):  # row a of B·(he, ho): (v₀, v₁ − v₂ + v₃, v₁ + v₂ − v₀, −v₃)
                        e0, e1, e2, e3 = vload(he, 0, m), vload(he, 1, m), vload(he, 2, m), vload(he, 3, m)
                        d0, d1, d2, d3 = vload(ho, 0, m), vload(ho, 1, m), vload(ho, 2, m), vload(ho, 3, m)
                        if a == 0:
                            e, d = e0, d0
                        elif a == 1:
                            e, d = e1 - e2 + e3, d1 - d2 + d3
                        elif a == 2:
                            e, d = e1 + e2 - e0, d1 + d2 - d0
                        else:
                            e, d = -e3, -d3
                        vstore(row, 0, 2 * m, vzip_low(e, d))
                        vstore(row, 0, 2 * m + LANES, vzip_high(e, d))
                    gx = grad_x[n, c]
                    for w0 in range(0, W, LANES):  # grad_x[h, w] += row[pw + w]
                        k = min(LANES, W - w0)
                        vstore_first(gx, h, w0, vload_first(gx, h, w0, k) + vload(row, 0, pw + w0), k)


@njit(parallel=True)
def _weight_transform(weight, U, o0, o1):
    """U[4ξ + ν, o, c] = (G w[o, c] Gᵀ)[ξ, ν] for o0 ≤ o < o1: G's rows are (w₀, (w₀ + w₁ + w₂)/2, (w₀ − w₁ + w₂)/2, w₂)."""
    O, C = weight.shape[:2]
    wf = weight.reshape(O * C * 9)
    Uf = U.reshape(U.size)
    s = U.shape[1]
    half = U.dtype.type(0.5)
    for o in prange(o0, o1):
        gw = np.empty(12, dtype=U.dtype)  # G w (4 × 3): down the columns
        for c in range(C):
            src = (o * C + c) * 9
            for j in range(3):
                w0, w1, w2 = wf[src + j], wf[src + 3 + j], wf[src + 6 + j]
                gw[j] = w0
                gw[3 + j] = (w0 + w1 + w2) * half
                gw[6 + j] = (w0 - w1 + w2) * half
                gw[9 + j] = w2
            dst = o * C + c
            for xi in range(4):  # (G w) Gᵀ: along the rows
                w0, w1, w2 = gw[3 * xi], gw[3 * xi + 1], gw[3 * xi + 2]
                k = 4 * xi * s + dst
                Uf[k] = w0
                Uf[k + s] = (w0 + w1 + w2) * half
                Uf[k + 2 * s] = (w0 - w1 + w2) * half
                Uf[k + 3 * s] = w2


@njit(parallel=True)
def _weight_transform_adjoint(grad_U, grad_w):
    """grad_w[o, c] = Gᵀ grad_U[:, o, c] G; Gᵀ maps (u₀, u₁, u₂, u₃) to (u₀ + (u₁ + u₂)/2, (u₁ − u₂)/2, (u₁ + u₂)/2 + u₃)."""
    O, C = grad_w.shape[:2]
    uf = grad_U.reshape(grad_U.size)
    wf = grad_w.reshape(O * C * 9)
    s = grad_U.shape[1]
    half = grad_w.dtype.type(0.5)
    for o in prange(O):
        a = np.empty(12, dtype=grad_w.dtype)  # grad_U G (4 × 3): along the rows
        for c in range(C):
            src = o * C + c
            for xi in range(4):
                k = 4 * xi * s + src
                u0, u1, u2, u3 = uf[k], uf[k + s], uf[k + 2 * s], uf[k + 3 * s]
                a[3 * xi] = u0 + (u1 + u2) * half
                a[3 * xi + 1] = (u1 - u2) * half
                a[3 * xi + 2] = (u1 + u2) * half + u3
            dst = (o * C + c) * 9
            for j in range(3):  # Gᵀ (grad_U G): down the columns
                u0, u1, u2, u3 = a[j], a[3 + j], a[6 + j], a[9 + j]
                wf[dst + j] = u0 + (u1 + u2) * half
                wf[dst + 3 + j] = (u1 - u2) * half
                wf[dst + 6 + j] = (u1 + u2) * half + u3
