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
(see ``planes`` in winograd.py); t = (n·th + ty)·tw + tx numbers the 2×2 output tiles.
Performance contract: ``prange`` over channels (each iteration owns whole channels of its
output: no races; serial unless ``MINITUNE_NUMBA_PARALLEL=1``), one pass over the data.
"""
import numpy as np

from .jit import njit, prange

# Layout inside the transforms: a tile row is kept as its even and odd columns in two arrays
# (col 2m → even[m], col 2m + 1 → odd[m]).  Tile tx reads columns 2tx … 2tx + 3, i.e. even[tx],
# odd[tx], even[tx + 1], odd[tx + 1]: unit stride in tx, so LLVM vectorizes the loops over tiles
# (with interleaved columns the loads are stride 2 and the loops stay scalar: measured 3x slower).
# Flat views and unsigned indices, as in im2col.py: no negative-index test per access.

@njit()
def _split_range(r, pad, W, tw):
    """The m in [0, tw] whose padded column 2m + r reads x column 2m + r − pad inside [0, W): [lo, hi)."""
    lo = max(0, (pad - r + 1) // 2)
    hi = min(tw + 1, (W + pad - r + 1) // 2)
    return lo, max(lo, hi)


@njit(parallel=True)
def _input_transform(x, V, ph, pw, th, tw):
    """V[4ξ + ν, c·T + t] = (Bᵀ d B)[ξ, ν] for every tile t of x (N, C, H, W); V is (16, ≥ C·T) planes."""
    N, C, H, W = x.shape
    T = N * th * tw
    xf = x.reshape(N * C * H * W)
    Vf = V.reshape(V.size)
    s = np.uint64(V.shape[1])  # from V[k] to V[k + 1]
    lo0, hi0 = _split_range(0, pw, W, tw)
    lo1, hi1 = _split_range(1, pw, W, tw)
    for c in prange(C):
        ev = np.zeros((4, tw + 1), dtype=x.dtype)  # the 4 input rows of a tile row: even columns
        od = np.zeros((4, tw + 1), dtype=x.dtype)  # … odd columns (zero where padded)
        ee = np.empty((4, tw + 1), dtype=x.dtype)  # after the vertical transform Bᵀ d
        eo = np.empty((4, tw + 1), dtype=x.dtype)
        for n in range(N):
            for ty in range(th):
                for a in range(4):
                    h = 2 * ty + a - ph
                    if 0 <= h < H:
                        src = np.uint64(((n * C + c) * H + h) * W - pw)  # wraps below 0 only for entries never read
                        for m in range(np.uint64(lo0), np.uint64(hi0)):
                            ev[a, m] = xf[src + 2 * m]
                        for m in range(np.uint64(lo1), np.uint64(hi1)):
                            od[a, m] = xf[src + 2 * m + 1]
                    else:
                        ev[a, :] = 0
                        od[a, :] = 0
                for m in range(tw + 1):  # Bᵀ d down the columns: (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃)
                    ee[0, m] = ev[0, m] - ev[2, m]
                    ee[1, m] = ev[1, m] + ev[2, m]
                    ee[2, m] = ev[2, m] - ev[1, m]
                    ee[3, m] = ev[1, m] - ev[3, m]
                    eo[0, m] = od[0, m] - od[2, m]
                    eo[1, m] = od[1, m] + od[2, m]
                    eo[2, m] = od[2, m] - od[1, m]
                    eo[3, m] = od[1, m] - od[3, m]
                base0 = np.uint64((n * th + ty) * tw)
                for q in range(4):  # then B along row ξ = q: tile tx reads ee[tx], eo[tx], ee[tx + 1], eo[tx + 1]
                    k = np.uint64(4 * q) * s + np.uint64(c * T) + base0
                    for tx in range(np.uint64(tw)):
                        d0, d1, d2, d3 = ee[q, tx], eo[q, tx], ee[q, tx + 1], eo[q, tx + 1]
                        Vf[k + tx] = d0 - d2
                        Vf[k + s + tx] = d1 + d2
                        Vf[k + 2 * s + tx] = d2 - d1
                        Vf[k + 3 * s + tx] = d1 - d3


@njit(parallel=True)
def _output_transform(M, bias, y, th, tw):
    """y[n, o, 2ty + a, 2tx + b] = (Aᵀ M[:, o, t] A)[a, b] + bias[o], clipped to y's size."""
    N, O, Ho, Wo = y.shape
    T = N * th * tw
    Mf = M.reshape(M.size)
    yf = y.reshape(N * O * Ho * Wo)
    s = np.uint64(M.shape[1])  # from M[k] to M[k + 1]
    for o in prange(O):
        p = np.empty((8, tw), dtype=y.dtype)  # Aᵀ along each row ξ: p[2ξ] = m₀ + m₁ + m₂, p[2ξ + 1] = m₁ − m₂ − m₃
        out = np.empty((4, tw), dtype=y.dtype)  # output rows 0, 1 × even, odd columns
        bo = bias[o]
        for n in range(N):
            for ty in range(th):
                base = np.uint64(o * T + (n * th + ty) * tw)
                for r in range(4):
                    k = base + np.uint64(4 * r) * s
                    for tx in range(np.uint64(tw)):
                        m1, m2 = Mf[k + s + tx], Mf[k + 2 * s + tx]
                        p[2 * r, tx] = Mf[k + tx] + m1 + m2
                        p[2 * r + 1, tx] = m1 - m2 - Mf[k + 3 * s + tx]
                for tx in range(np.uint64(tw)):  # then Aᵀ down the columns
                    out[0, tx] = p[0, tx] + p[2, tx] + p[4, tx] + bo
                    out[1, tx] = p[1, tx] + p[3, tx] + p[5, tx] + bo
                    out[2, tx] = p[2, tx] - p[4, tx] - p[6, tx] + bo
                    out[3, tx] = p[3, tx] - p[5, tx] - p[7, tx] + bo
                for a in range(2):
                    if 2 * ty + a >= Ho:
                        break
                    dst = np.uint64(((n * O + o) * Ho + 2 * ty + a) * Wo)
                    for m in range(np.uint64(Wo // 2)):
                        yf[dst + 2 * m] = out[2 * a, m]
                        yf[dst + 2 * m + 1] = out[2 * a + 1, m]
                    if Wo % 2:
                        yf[dst + Wo - 1] = out[2 * a, Wo // 2]


@njit(parallel=True)
def _output_transform_adjoint(grad_out, Z, th, tw):
    """Z[4ξ + ν, o, t] = (A g Aᵀ)[ξ, ν] for the 2×2 tile g of grad_out (zero past its edges)."""
    N, O, Ho, Wo = grad_out.shape
    T = N * th * tw
    gf = grad_out.reshape(N * O * Ho * Wo)
    Zf = Z.reshape(Z.size)
    s = np.uint64(Z.shape[1])
    for o in prange(O):
        g = np.zeros((4, tw), dtype=grad_out.dtype)  # tile rows 0, 1 × even, odd columns
        q = np.empty((8, tw), dtype=grad_out.dtype)  # after A down the columns: q[2ξ], q[2ξ + 1] (even, odd)
        for n in range(N):
            for ty in range(th):
                for a in range(2):
                    if 2 * ty + a >= Ho:
                        g[2 * a, :] = 0
                        g[2 * a + 1, :] = 0
                        continue
                    src = np.uint64(((n * O + o) * Ho + 2 * ty + a) * Wo)
                    for m in range(np.uint64(Wo // 2)):
                        g[2 * a, m] = gf[src + 2 * m]
                        g[2 * a + 1, m] = gf[src + 2 * m + 1]
                    if Wo % 2:
                        g[2 * a, Wo // 2] = gf[src + Wo - 1]
                for b in range(2):  # A = rows (g₀, g₀ + g₁, g₀ − g₁, −g₁), down the columns
                    for tx in range(np.uint64(tw)):
                        g0, g1 = g[b, tx], g[2 + b, tx]
                        q[b, tx] = g0
                        q[2 + b, tx] = g0 + g1
                        q[4 + b, tx] = g0 - g1
                        q[6 + b, tx] = -g1
                base = np.uint64(o * T + (n * th + ty) * tw)
                for r in range(4):  # then A along row ξ = r
                    k = base + np.uint64(4 * r) * s
                    for tx in range(np.uint64(tw)):
                        a0, a1 = q[2 * r, tx], q[2 * r + 1, tx]
                        Zf[k + tx] = a0
                        Zf[k + s + tx] = a0 + a1
                        Zf[k + 2 * s + tx] = a0 - a1
                        Zf[k + 3 * s + tx] = -a1


@njit(parallel=True)
def _input_transform_adjoint(grad_V, grad_x, ph, pw, th, tw):
    """grad_x[n, c] += B grad_V[:, c, t] Bᵀ at the 4×4 input tile t (grad_x zeroed by the caller)."""
    N, C, H, W = grad_x.shape
    T = N * th * tw
    vf = grad_V.reshape(grad_V.size)
    xf = grad_x.reshape(N * C * H * W)
    s = np.uint64(grad_V.shape[1])
    lo0, hi0 = _split_range(0, pw, W, tw)
    lo1, hi1 = _split_range(1, pw, W, tw)
    for c in prange(C):
        he = np.zeros((4, tw + 1), dtype=grad_x.dtype)  # row ξ after B along the row: even columns
        ho = np.zeros((4, tw + 1), dtype=grad_x.dtype)  # … odd columns
        re = np.empty(tw + 1, dtype=grad_x.dtype)  # one input row's even and odd columns after B down the columns
        ro = np.empty(tw + 1, dtype=grad_x.dtype)
        for n in range(N):
            for ty in range(th):
                base = np.uint64(c * T + (n * th + ty) * tw)
                for r in range(4):
                    # adjoint of (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃) at tile tx, columns 2tx … 2tx + 3:
                    # even[tx] += v₀, odd[tx] += v₁ − v₂ + v₃, even[tx + 1] += v₁ + v₂ − v₀, odd[tx + 1] −= v₃
                    k = base + np.uint64(4 * r) * s
                    he[r, tw] = 0
                    ho[r, tw] = 0
                    for tx in range(np.uint64(tw)):
                        he[r, tx] = vf[k + tx]
                        ho[r, tx] = vf[k + s + tx] - vf[k + 2 * s + tx] + vf[k + 3 * s + tx]
                    for tx in range(np.uint64(tw)):
                        he[r, tx + 1] += vf[k + s + tx] + vf[k + 2 * s + tx] - vf[k + tx]
                        ho[r, tx + 1] -= vf[k + 3 * s + tx]
                for a in range(4):  # the same adjoint down the columns, added into grad_x's rows
                    h = 2 * ty + a - ph
                    if h < 0 or h >= H:
                        continue
                    if a == 0:  # row a of B·(he, ho): (v₀, v₁ − v₂ + v₃, v₁ + v₂ − v₀, −v₃), one loop per row
                        for m in range(tw + 1):
                            re[m], ro[m] = he[0, m], ho[0, m]
                    elif a == 1:
                        for m in range(tw + 1):
                            re[m] = he[1, m] - he[2, m] + he[3, m]
                            ro[m] = ho[1, m] - ho[2, m] + ho[3, m]
                    elif a == 2:
                        for m in range(tw + 1):
                            re[m] = he[1, m] + he[2, m] - he[0, m]
                            ro[m] = ho[1, m] + ho[2, m] - ho[0, m]
                    else:
                        for m in range(tw + 1):
                            re[m], ro[m] = -he[3, m], -ho[3, m]
                    dst = np.uint64(((n * C + c) * H + h) * W - pw)  # wraps below 0 only for entries never read
                    for m in range(np.uint64(lo0), np.uint64(hi0)):
                        xf[dst + 2 * m] += re[m]
                    for m in range(np.uint64(lo1), np.uint64(hi1)):
                        xf[dst + 2 * m + 1] += ro[m]


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
