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

# Flat views and unsigned indices, as in im2col.py: numba then emits no negative-index test and
# each store is one address computation (measured 4.7x faster than V[k, c, t] indexing, layer1).

@njit(parallel=True)
def _input_transform(x, V, ph, pw, th, tw):
    """V[4ξ + ν, c, t] = (Bᵀ d B)[ξ, ν] for every tile t of x (N, C, H, W); V is (16, C, N·th·tw)."""
    N, C, H, W = x.shape
    T = N * th * tw
    Wb = 2 * tw + 2
    ncopy = min(W, Wb - pw)
    xf = x.reshape(N * C * H * W)
    Vf = V.reshape(16 * C * T)
    stride_k = np.uint64(C * T)  # from V[k] to V[k + 1]
    for c in prange(C):
        rows = np.zeros((4, Wb), dtype=x.dtype)  # the four input rows of a tile row, zero-padded
        e = np.empty((4, Wb), dtype=x.dtype)  # the same after the vertical transform Bᵀ d
        for n in range(N):
            for ty in range(th):
                for a in range(4):
                    h = 2 * ty + a - ph
                    if 0 <= h < H:
                        src = ((n * C + c) * H + h) * W
                        for b in range(ncopy):
                            rows[a, pw + b] = xf[src + b]
                    else:
                        rows[a, :] = 0
                for b in range(Wb):  # Bᵀ d, whole rows at once
                    e[0, b] = rows[0, b] - rows[2, b]
                    e[1, b] = rows[1, b] + rows[2, b]
                    e[2, b] = rows[2, b] - rows[1, b]
                    e[3, b] = rows[1, b] - rows[3, b]
                t0 = (n * th + ty) * tw
                for q in range(4):  # (Bᵀ d) B, tile by tile along row ξ = q
                    base = np.uint64((4 * q * C + c) * T + t0)
                    for tx in range(np.uint64(tw)):
                        b0 = 2 * tx
                        d0, d1, d2, d3 = e[q, b0], e[q, b0 + 1], e[q, b0 + 2], e[q, b0 + 3]
                        Vf[base + tx] = d0 - d2
                        Vf[base + stride_k + tx] = d1 + d2
                        Vf[base + 2 * stride_k + tx] = d2 - d1
                        Vf[base + 3 * stride_k + tx] = d1 - d3


@njit(parallel=True)
def _output_transform(M, bias, y, th, tw):
    """y[n, o, 2ty + a, 2tx + b] = (Aᵀ M[:, o, t] A)[a, b] + bias[o], clipped to y's size."""
    N, O, Ho, Wo = y.shape
    T = N * th * tw
    Mf = M.reshape(16 * O * T)
    yf = y.reshape(N * O * Ho * Wo)
    s = np.uint64(O * T)  # from M[k] to M[k + 1]
    for o in prange(O):
        out = np.empty((2, 2 * tw), dtype=y.dtype)
        bo = bias[o]
        for n in range(N):
            for ty in range(th):
                base = np.uint64(o * T + (n * th + ty) * tw)
                for tx in range(np.uint64(tw)):
                    k = base + tx
                    # Aᵀ along each row ξ: (m₀ + m₁ + m₂, m₁ − m₂ − m₃)
                    p00 = Mf[k] + Mf[k + s] + Mf[k + 2 * s]
                    p01 = Mf[k + s] - Mf[k + 2 * s] - Mf[k + 3 * s]
                    p10 = Mf[k + 4 * s] + Mf[k + 5 * s] + Mf[k + 6 * s]
                    p11 = Mf[k + 5 * s] - Mf[k + 6 * s] - Mf[k + 7 * s]
                    p20 = Mf[k + 8 * s] + Mf[k + 9 * s] + Mf[k + 10 * s]
                    p21 = Mf[k + 9 * s] - Mf[k + 10 * s] - Mf[k + 11 * s]
                    p30 = Mf[k + 12 * s] + Mf[k + 13 * s] + Mf[k + 14 * s]
                    p31 = Mf[k + 13 * s] - Mf[k + 14 * s] - Mf[k + 15 * s]
                    # then Aᵀ down the columns
                    out[0, 2 * tx] = p00 + p10 + p20 + bo
                    out[0, 2 * tx + 1] = p01 + p11 + p21 + bo
                    out[1, 2 * tx] = p10 - p20 - p30 + bo
                    out[1, 2 * tx + 1] = p11 - p21 - p31 + bo
                dst = ((n * O + o) * Ho + 2 * ty) * Wo
                for b in range(Wo):
                    yf[dst + b] = out[0, b]
                if 2 * ty + 1 < Ho:
                    for b in range(Wo):
                        yf[dst + Wo + b] = out[1, b]


@njit(parallel=True)
def _output_transform_adjoint(grad_out, Z, th, tw):
    """Z[4ξ + ν, o, t] = (A g Aᵀ)[ξ, ν] for the 2×2 tile g of grad_out (zero past its edges)."""
    N, O, Ho, Wo = grad_out.shape
    T = N * th * tw
    gf = grad_out.reshape(N * O * Ho * Wo)
    Zf = Z.reshape(16 * O * T)
    s = np.uint64(O * T)
    for o in prange(O):
        q = np.zeros((4, 2 * tw), dtype=grad_out.dtype)  # the tile row after A down the columns
        for n in range(N):
            for ty in range(th):
                src = ((n * O + o) * Ho + 2 * ty) * Wo
                second = 2 * ty + 1 < Ho
                for b in range(Wo):  # A = rows (g₀, g₀ + g₁, g₀ − g₁, −g₁)
                    g0 = gf[src + b]
                    g1 = gf[src + Wo + b] if second else 0.0
                    q[0, b] = g0
                    q[1, b] = g0 + g1
                    q[2, b] = g0 - g1
                    q[3, b] = -g1
                base = np.uint64(o * T + (n * th + ty) * tw)
                for r in range(4):  # then A along row ξ = r, tile by tile
                    k = base + np.uint64(4 * r) * s
                    for tx in range(np.uint64(tw)):
                        a0, a1 = q[r, 2 * tx], q[r, 2 * tx + 1]
                        Zf[k + tx] = a0
                        Zf[k + s + tx] = a0 + a1
                        Zf[k + 2 * s + tx] = a0 - a1
                        Zf[k + 3 * s + tx] = -a1


@njit(parallel=True)
def _input_transform_adjoint(grad_V, grad_x, ph, pw, th, tw):
    """grad_x[n, c] += B grad_V[:, c, t] Bᵀ at the 4×4 input tile t (grad_x zeroed by the caller)."""
    N, C, H, W = grad_x.shape
    T = N * th * tw
    Wb = 2 * tw + 2
    ncopy = min(W, Wb - pw)
    vf = grad_V.reshape(16 * C * T)
    xf = grad_x.reshape(N * C * H * W)
    s = np.uint64(C * T)
    for c in prange(C):
        h4 = np.zeros((4, Wb), dtype=grad_x.dtype)  # row ξ after B along the row, overlap-added
        for n in range(N):
            for ty in range(th):
                h4[:, :] = 0
                base = np.uint64(c * T + (n * th + ty) * tw)
                for r in range(4):  # adjoint of (d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃) along row ξ = r
                    k = base + np.uint64(4 * r) * s
                    for tx in range(np.uint64(tw)):
                        v0, v1, v2, v3 = vf[k + tx], vf[k + s + tx], vf[k + 2 * s + tx], vf[k + 3 * s + tx]
                        b0 = 2 * tx
                        h4[r, b0] += v0
                        h4[r, b0 + 1] += v1 - v2 + v3
                        h4[r, b0 + 2] += v1 + v2 - v0
                        h4[r, b0 + 3] -= v3
                for a in range(4):  # the same adjoint down the columns, added into grad_x's rows
                    h = 2 * ty + a - ph
                    if h < 0 or h >= H:
                        continue
                    dst = ((n * C + c) * H + h) * W
                    for b in range(ncopy):
                        if a == 0:
                            xf[dst + b] += h4[0, pw + b]
                        elif a == 1:
                            xf[dst + b] += h4[1, pw + b] - h4[2, pw + b] + h4[3, pw + b]
                        elif a == 2:
                            xf[dst + b] += h4[1, pw + b] + h4[2, pw + b] - h4[0, pw + b]
                        else:
                            xf[dst + b] -= h4[3, pw + b]


# ---------------------------------------------------------------- the convolution, forward and backward

@njit(parallel=True)
def _weight_transform(weight, U):
    """U[4ξ + ν, o, c] = (G w[o, c] Gᵀ)[ξ, ν]: G's rows are (w₀, (w₀ + w₁ + w₂)/2, (w₀ − w₁ + w₂)/2, w₂)."""
    O, C = weight.shape[:2]
    for o in prange(O):
        for c in range(C):
            gw = np.empty((4, 3), dtype=U.dtype)  # G w: down the columns
            for j in range(3):
                w0, w1, w2 = weight[o, c, 0, j], weight[o, c, 1, j], weight[o, c, 2, j]
                gw[0, j] = w0
                gw[1, j] = (w0 + w1 + w2) * 0.5
                gw[2, j] = (w0 - w1 + w2) * 0.5
                gw[3, j] = w2
            for xi in range(4):  # (G w) Gᵀ: along the rows
                w0, w1, w2 = gw[xi, 0], gw[xi, 1], gw[xi, 2]
                U[4 * xi, o, c] = w0
                U[4 * xi + 1, o, c] = (w0 + w1 + w2) * 0.5
                U[4 * xi + 2, o, c] = (w0 - w1 + w2) * 0.5
                U[4 * xi + 3, o, c] = w2


@njit(parallel=True)
def _weight_transform_adjoint(grad_U, grad_w):
    """grad_w[o, c] = Gᵀ grad_U[:, o, c] G; Gᵀ maps (u₀, u₁, u₂, u₃) to (u₀ + (u₁ + u₂)/2, (u₁ − u₂)/2, (u₁ + u₂)/2 + u₃)."""
    O, C = grad_w.shape[:2]
    for o in prange(O):
        for c in range(C):
            a = np.empty((4, 3), dtype=grad_w.dtype)  # grad_U G: along the rows
            for xi in range(4):
                u0, u1, u2, u3 = grad_U[4 * xi, o, c], grad_U[4 * xi + 1, o, c], grad_U[4 * xi + 2, o, c], grad_U[4 * xi + 3, o, c]
                a[xi, 0] = u0 + (u1 + u2) * 0.5
                a[xi, 1] = (u1 - u2) * 0.5
                a[xi, 2] = (u1 + u2) * 0.5 + u3
            for j in range(3):  # Gᵀ (grad_U G): down the columns
                u0, u1, u2, u3 = a[0, j], a[1, j], a[2, j], a[3, j]
                grad_w[o, c, 0, j] = u0 + (u1 + u2) * 0.5
                grad_w[o, c, 1, j] = (u1 - u2) * 0.5
                grad_w[o, c, 2, j] = (u1 + u2) * 0.5 + u3


def weight_transform(weight):
    """U[4ξ + ν, o, c] = (G w[o, c] Gᵀ)[ξ, ν], as (16, O, C)."""
    U = np.empty((16,) + weight.shape[:2], dtype=weight.dtype)
    _weight_transform(np.ascontiguousarray(weight), U)
    return U


def weight_transform_adjoint(grad_U):
    """grad_w[o, c] = Gᵀ grad_U[:, o, c] G: (16, O, C) → (O, C, 3, 3), the adjoint of ``weight_transform``."""
    grad_w = np.empty(grad_U.shape[1:] + (3, 3), dtype=grad_U.dtype)
    _weight_transform_adjoint(np.ascontiguousarray(grad_U), grad_w)
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
    U = weight_transform(weight)
    b = np.zeros(O, dtype=x.dtype) if bias is None else bias
    y = np.empty((N, O, Ho, Wo), dtype=x.dtype)
    for n0, n1 in _chunks(N, th * tw):
        T = (n1 - n0) * th * tw
        V = scratch((16, C, T), x.dtype, "winograd_V")
        _input_transform(x[n0:n1], V, padding[0], padding[1], th, tw)
        M = np.matmul(U, V, out=scratch((16, O, T), x.dtype, "winograd_M"))
        _output_transform(M, b, y[n0:n1], th, tw)
    return y
    # END SOLUTION


def winograd_conv2d_backward(grad_out, x, weight, padding, need=(True, True)):
    """(grad_input, grad_weight) of the Winograd forward: Z = A g Aᵀ, grad_U = Z Vᵀ, grad_V = Uᵀ Z, then adjoints.

    ``need`` = (grad_input?, grad_weight?); a gradient not needed is None."""
    # BEGIN SOLUTION A2: implement the fast Winograd backward: Z = A g A^T, grad_w = G^T (Z V^T) G, grad_x = input-transform adjoint of U^T Z
    N, C, H, W = x.shape
    O = weight.shape[0]
    _, _, th, tw = _tile_grid(H, W, padding)
    U = weight_transform(weight) if need[0] else None
    grad_U = np.zeros((16, O, C), dtype=x.dtype) if need[1] else None
    grad_x = np.zeros_like(x) if need[0] else None
    for n0, n1 in _chunks(N, th * tw):
        T = (n1 - n0) * th * tw
        Z = scratch((16, O, T), x.dtype, "winograd_M")
        _output_transform_adjoint(np.ascontiguousarray(grad_out[n0:n1]), Z, th, tw)
        V = scratch((16, C, T), x.dtype, "winograd_V")
        if need[1]:
            _input_transform(x[n0:n1], V, padding[0], padding[1], th, tw)
            grad_U += np.matmul(Z, V.transpose(0, 2, 1))
        if need[0]:
            np.matmul(U.transpose(0, 2, 1), Z, out=V)  # grad_V, written over V (no longer needed)
            _input_transform_adjoint(V, grad_x[n0:n1], padding[0], padding[1], th, tw)
    grad_w = weight_transform_adjoint(grad_U) if need[1] else None
    return grad_x, grad_w
    # END SOLUTION
