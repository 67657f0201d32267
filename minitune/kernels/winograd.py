r"""Winograd F(2×2, 3×3): a 3×3 stride-1 convolution with 16 multiplies per 2×2 output tile, not 36.

Read ``winograd_conv2d_reference`` first (numpy, a few einsums); the numba transforms below
compute the same arrays in one pass each.  Lavin & Gray (2016), "Fast Algorithms for
Convolutional Neural Networks".

**1-D, F(2, 3).**  Two outputs of a 3-tap correlation, y₀ = d₀g₀ + d₁g₁ + d₂g₂ and
y₁ = d₁g₀ + d₂g₁ + d₃g₂, from four products instead of six:

    m₁ = (d₀ − d₂) g₀              m₂ = (d₁ + d₂) (g₀ + g₁ + g₂)/2
    m₄ = (d₁ − d₃) g₂              m₃ = (d₂ − d₁) (g₀ − g₁ + g₂)/2
    y₀ = m₁ + m₂ + m₃              y₁ = m₂ − m₃ − m₄

(expand: m₂ + m₃ = d₁g₁ + d₂(g₀ + g₂), m₂ − m₃ = d₁(g₀ + g₂) + d₂g₁).  In matrices,
y = Aᵀ[(G g) ⊙ (Bᵀ d)] with the rows of Bᵀ, G, Aᵀ read off the lines above:

    Bᵀ = [[1, 0, −1, 0],    G = [[1,    0,   0  ],    Aᵀ = [[1, 1,  1,  0],
          [0, 1,  1, 0],         [1/2,  1/2, 1/2],          [0, 1, −1, −1]]
          [0, −1, 1, 0],         [1/2, −1/2, 1/2],
          [0, 1,  0, −1]]        [0,    0,   1  ]]

**2-D, F(2×2, 3×3)** nests the 1-D algorithm along rows and columns: for a 4×4 input tile d
(rows 2ty − p … 2ty − p + 3 of x, columns likewise) and a 3×3 kernel w,

    Y = Aᵀ [ (G w Gᵀ) ⊙ (Bᵀ d B) ] A                            (a 2×2 output tile)

Summed over the input channels and laid out for GEMMs, with k = 4ξ + ν one of the 16
positions (ξ, ν) of the 4×4 transformed tile and t = (n·th + ty)·tw + tx a tile:

    U[k, o, c] = (G w[o, c] Gᵀ)[ξ, ν]                            (16, O, C)
    V[k, c, t] = (Bᵀ d[n, c, ty, tx] B)[ξ, ν]                    (16, C, T)   input transform
    M[k]       = U[k] · V[k]                                     16 GEMMs (O × C)·(C × T)
    y[n, o, 2ty + a, 2tx + b] = (Aᵀ M[:, o, t] A)[a, b]          output transform

Multiplies per output pixel and channel pair: 16/4 = 4 against 9 — a 2.25× cut of the
GEMM work; the transforms only add and subtract.

**Backward**: every stage is linear, so the vector-Jacobian product runs the stages
transposed, in reverse order (g_y is the upstream gradient):

    Z[:, o, t]   = A g_y-tile[n, o, ty, tx] Aᵀ                  (16, O, T)   output-transform adjoint
    grad_U[k]    = Z[k] · V[k]ᵀ                                  16 GEMMs (O × T)·(T × C)
    grad_w[o, c] = Gᵀ grad_U[:, o, c] G                          (3 × 3)
    grad_V[k]    = U[k]ᵀ · Z[k]                                  16 GEMMs (C × O)·(O × T)
    grad_x      += B grad_V[:, c, t] Bᵀ, added at tile t         input-transform adjoint

(neighbouring 4×4 input tiles overlap by two rows/columns, so the last line accumulates).
grad_x is the transposed convolution and grad_w the weight gradient of the *exact* conv,
since Winograd's forward equals the convolution in exact arithmetic; in floating point
the transforms add a small rounding error, measured by the tests against float64.

Layout and performance contract: tiles cover the output (th = ⌈Ho/2⌉, tw = ⌈Wo/2⌉;
pixels past Ho, Wo are computed and dropped; input pixels outside x read 0).  The four
numba kernels loop ``prange`` over channels (each iteration owns whole channels of its
output: no races; serial unless ``MINITUNE_NUMBA_PARALLEL=1``, see jit.py).  Each copies the
four input rows of a tile row into a zero-padded row buffer (no bounds test per element),
applies the vertical transform to whole rows (unit stride, vectorized), then the horizontal
one per tile.  The batch is processed in chunks of samples of about ``CHUNK_TILES`` tiles,
so that V and M (16 × channels × tiles) stay small enough to be reused from cache and the
workspace stays small at any batch size; U is computed once per call.
"""
import numpy as np

from .jit import njit, prange
from .workspace import scratch

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)

# Tiles per chunk of samples (see the module docstring): measured on ResNet-18 (batch 8 and 32).
CHUNK_TILES = 2048


def winograd_applies(kernel, stride, dilation, groups):
    """True for the convolutions this file computes: 3×3, stride 1, no dilation, one group (any padding)."""
    return kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1


def _tile_grid(H, W, padding):
    """(Ho, Wo, th, tw): output size of a 3×3 stride-1 convolution and the 2×2 tiles covering it."""
    Ho, Wo = H + 2 * padding[0] - 2, W + 2 * padding[1] - 2
    return Ho, Wo, (Ho + 1) // 2, (Wo + 1) // 2


# ---------------------------------------------------------------- numpy twin (slow, obviously right)

def _input_tiles(x, padding, th, tw):
    """d[n, c, ty, tx, a, b] = x_pad[n, c, 2ty + a, 2tx + b]: the overlapping 4×4 input tiles."""
    N, C, H, W = x.shape
    ph, pw = padding
    xp = np.zeros((N, C, 2 * th + 2, 2 * tw + 2), dtype=x.dtype)
    h, w = min(H, 2 * th + 2 - ph), min(W, 2 * tw + 2 - pw)
    xp[:, :, ph:ph + h, pw:pw + w] = x[:, :, :h, :w]
    return np.stack([np.stack([xp[:, :, a:a + 2 * th:2, b:b + 2 * tw:2] for b in range(4)], -1)
                     for a in range(4)], -2)


def winograd_conv2d_reference(x, weight, bias, padding):
    """numpy twin: y = Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A per tile, summed over channels (the module docstring)."""
    # BEGIN SOLUTION A2: implement the numpy twin of Winograd F(2x2, 3x3) with the matrices B_T, G, A_T (U = G w G^T, V = B^T d B, M = sum over c of U*V, Y = A^T M A)
    N, C, H, W = x.shape
    O = weight.shape[0]
    Ho, Wo, th, tw = _tile_grid(H, W, padding)
    d = _input_tiles(x, padding, th, tw)                                # (N, C, th, tw, 4, 4)
    V = np.einsum("ia,nctsab,jb->nctsij", B_T, d, B_T)                  # Bᵀ d B
    U = np.einsum("ia,ocab,jb->ocij", G, weight, G)                     # G w Gᵀ
    M = np.einsum("ocij,nctsij->notsij", U, V)                          # ⊙, summed over c
    Y = np.einsum("ai,notsij,bj->notsab", A_T, M, A_T)                  # Aᵀ M A, (N, O, th, tw, 2, 2)
    y = Y.transpose(0, 1, 2, 4, 3, 5).reshape(N, O, 2 * th, 2 * tw)[:, :, :Ho, :Wo]
    if bias is not None:
        y = y + bias[None, :, None, None]
    return np.ascontiguousarray(y, dtype=x.dtype)
    # END SOLUTION


# ---------------------------------------------------------------- numba transforms

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
                        src = ((n * C + c) * H + h) * W - pw
                        for m in range(lo0, hi0):
                            ev[a, m] = xf[src + 2 * m]
                        for m in range(lo1, hi1):
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
                for tx in range(tw):  # then Aᵀ down the columns
                    out[0, tx] = p[0, tx] + p[2, tx] + p[4, tx] + bo
                    out[1, tx] = p[1, tx] + p[3, tx] + p[5, tx] + bo
                    out[2, tx] = p[2, tx] - p[4, tx] - p[6, tx] + bo
                    out[3, tx] = p[3, tx] - p[5, tx] - p[7, tx] + bo
                for a in range(2):
                    if 2 * ty + a >= Ho:
                        break
                    dst = ((n * O + o) * Ho + 2 * ty + a) * Wo
                    for m in range(Wo // 2):
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
                    src = ((n * O + o) * Ho + 2 * ty + a) * Wo
                    for m in range(Wo // 2):
                        g[2 * a, m] = gf[src + 2 * m]
                        g[2 * a + 1, m] = gf[src + 2 * m + 1]
                    if Wo % 2:
                        g[2 * a, Wo // 2] = gf[src + Wo - 1]
                for tx in range(tw):  # A = rows (g₀, g₀ + g₁, g₀ − g₁, −g₁), down the columns
                    for b in range(2):
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
                    dst = ((n * C + c) * H + h) * W - pw
                    for m in range(lo0, hi0):
                        if a == 0:
                            v = he[0, m]
                        elif a == 1:
                            v = he[1, m] - he[2, m] + he[3, m]
                        elif a == 2:
                            v = he[1, m] + he[2, m] - he[0, m]
                        else:
                            v = -he[3, m]
                        xf[dst + 2 * m] += v
                    for m in range(lo1, hi1):
                        if a == 0:
                            v = ho[0, m]
                        elif a == 1:
                            v = ho[1, m] - ho[2, m] + ho[3, m]
                        elif a == 2:
                            v = ho[1, m] + ho[2, m] - ho[0, m]
                        else:
                            v = -ho[3, m]
                        xf[dst + 2 * m + 1] += v


@njit(parallel=True)
def _weight_transform(weight, U):
    """U[4ξ + ν, o, c] = (G w[o, c] Gᵀ)[ξ, ν]: G's rows are (w₀, (w₀ + w₁ + w₂)/2, (w₀ − w₁ + w₂)/2, w₂)."""
    O, C = weight.shape[:2]
    wf = weight.reshape(O * C * 9)
    Uf = U.reshape(U.size)
    s = U.shape[1]
    half = U.dtype.type(0.5)
    for o in prange(O):
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


def planes(rows, cols, dtype, slot):
    """16 planes of (rows, cols) from the workspace: (buffer, view), buffer (16, stride) contiguous.

    The 16 planes are read and written as 16 streams at once; were they a power-of-two bytes
    apart (C·T·4 often is), all 16 would map to the same cache sets and evict each other
    (measured 13 ms instead of ~2 for a layer4 weight transform).  The plane stride is
    therefore rounded to 4 KiB plus one 64-byte cache line."""
    dtype = np.dtype(dtype)
    page, line = 4096 // dtype.itemsize, 64 // dtype.itemsize
    stride = -(-rows * cols // page) * page + line
    buf = scratch((16, stride), dtype, slot)
    return buf, buf[:, :rows * cols].reshape(16, rows, cols)


def weight_transform(weight):
    """U[4ξ + ν, o, c] = (G w[o, c] Gᵀ)[ξ, ν]: (buffer, view) as ``planes``, the view (16, O, C)."""
    O, C = weight.shape[:2]
    buf, U = planes(O, C, weight.dtype, "winograd_U")
    _weight_transform(np.ascontiguousarray(weight), buf)
    return buf, U


def weight_transform_adjoint(grad_U_buf, O, C):
    """grad_w[o, c] = Gᵀ grad_U[:, o, c] G: planes → (O, C, 3, 3), the adjoint of ``weight_transform``."""
    grad_w = np.empty((O, C, 3, 3), dtype=grad_U_buf.dtype)
    _weight_transform_adjoint(grad_U_buf, grad_w)
    return grad_w


def _chunks(N, tiles_per_sample):
    """Sample ranges [n0, n1) of about CHUNK_TILES tiles each."""
    step = max(1, CHUNK_TILES // tiles_per_sample)
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)]


def winograd_conv2d_forward(x, weight, bias, padding):
    """y = conv2d(x, w, b) for a 3×3 kernel, stride 1: V = Bᵀ d B, M[k] = U[k] V[k], y = Aᵀ M A.

    x (N, C, H, W) and weight (O, C, 3, 3) contiguous, same float dtype; returns y (N, O, Ho, Wo)."""
    # BEGIN SOLUTION A2: implement the fast Winograd forward: input transform, 16 batched GEMMs, output transform, chunk by chunk of samples
    N, C, H, W = x.shape
    O = weight.shape[0]
    Ho, Wo, th, tw = _tile_grid(H, W, padding)
    _, U = weight_transform(weight)
    b = np.zeros(O, dtype=x.dtype) if bias is None else bias
    y = np.empty((N, O, Ho, Wo), dtype=x.dtype)
    for n0, n1 in _chunks(N, th * tw):
        T = (n1 - n0) * th * tw
        V_buf, V = planes(C, T, x.dtype, "winograd_V")
        _input_transform(x[n0:n1], V_buf, padding[0], padding[1], th, tw)
        M_buf, M = planes(O, T, x.dtype, "winograd_M")
        np.matmul(U, V, out=M)  # M[k] = U[k] V[k]
        _output_transform(M_buf, b, y[n0:n1], th, tw)
    return y
    # END SOLUTION


def winograd_conv2d_backward(grad_out, x, weight, padding, need=(True, True)):
    """(grad_input, grad_weight) of the Winograd forward: Z = A g Aᵀ, grad_U = Z Vᵀ, grad_V = Uᵀ Z, then adjoints.

    ``need`` = (grad_input?, grad_weight?); a gradient not needed is None."""
    # BEGIN SOLUTION A2: implement the fast Winograd backward: Z = A g A^T, grad_w = G^T (Z V^T) G, grad_x = input-transform adjoint of U^T Z
    N, C, H, W = x.shape
    O = weight.shape[0]
    _, _, th, tw = _tile_grid(H, W, padding)
    U = weight_transform(weight)[1] if need[0] else None
    if need[1]:
        grad_U_buf, grad_U = planes(O, C, x.dtype, "winograd_grad_U")
        part = planes(O, C, x.dtype, "winograd_part")[1]
        grad_U[...] = 0
    grad_x = np.zeros_like(x) if need[0] else None
    for n0, n1 in _chunks(N, th * tw):
        T = (n1 - n0) * th * tw
        Z_buf, Z = planes(O, T, x.dtype, "winograd_M")
        _output_transform_adjoint(np.ascontiguousarray(grad_out[n0:n1]), Z_buf, th, tw)
        V_buf, V = planes(C, T, x.dtype, "winograd_V")
        if need[1]:
            _input_transform(x[n0:n1], V_buf, padding[0], padding[1], th, tw)
            grad_U += np.matmul(Z, V.transpose(0, 2, 1), out=part)  # grad_U[k] += Z[k] V[k]ᵀ
        if need[0]:
            np.matmul(U.transpose(0, 2, 1), Z, out=V)  # grad_V[k] = U[k]ᵀ Z[k], written over V
            _input_transform_adjoint(V_buf, grad_x[n0:n1], padding[0], padding[1], th, tw)
    grad_w = weight_transform_adjoint(grad_U_buf, O, C) if need[1] else None
    return grad_x, grad_w
    # END SOLUTION
