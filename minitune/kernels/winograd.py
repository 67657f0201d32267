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

Layout and performance contract: tiles cover the output (th = ⌈Ho/2⌉, tw = ⌈Wo/2⌉; pixels
past Ho, Wo are computed and dropped; input pixels outside x read 0).  The transforms are
numba kernels in winograd_transforms.py, one pass over the data each, ``prange`` over
channels (serial unless ``MINITUNE_NUMBA_PARALLEL=1``, see jit.py).  A tile row is kept as
its even and odd columns, so that a row's tiles are SIMD vectors (simd.py: LLVM left these
short loops scalar; explicit vectors made the transforms 1.7x faster); the 16 planes of U, V,
M sit a 4 KiB + 64 B multiple apart, not a power of two (``planes``).  The batch is
processed in chunks of about ``CHUNK_TILES`` tiles — whole samples, or bands of tile rows of
a sample with more tiles (a large image) — so that the workspace stays small at any batch and
image size; U is computed once per call.  Timings:
benchmarks/README.md.
"""
import numpy as np

from .winograd_transforms import (_input_transform, _input_transform_adjoint, _output_transform,
                                  _output_transform_adjoint, _weight_transform, _weight_transform_adjoint)
from .threads import run_parts, split
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


def planes(rows, cols, dtype, slot):
    """16 planes of (rows, cols) from the workspace (a fresh array when ``slot`` is None): (buffer, view),
    buffer (16, stride) contiguous.

    The 16 planes are read and written as 16 streams at once; were they a power-of-two bytes
    apart (C·T·4 often is), all 16 would map to the same cache sets and evict each other
    (measured 13 ms instead of ~2 for a layer4 weight transform).  The plane stride is
    therefore rounded to 4 KiB plus one 64-byte cache line."""
    dtype = np.dtype(dtype)
    page, line = 4096 // dtype.itemsize, 64 // dtype.itemsize
    stride = -(-rows * cols // page) * page + line
    buf = np.empty((16, stride), dtype) if slot is None else scratch((16, stride), dtype, slot)
    return buf, buf[:, :rows * cols].reshape(16, rows, cols)


def weight_transform(weight, fresh=False):
    """U[4ξ + ν, o, c] = (G w[o, c] Gᵀ)[ξ, ν]: (buffer, view) as ``planes``, the view (16, O, C).

    In the workspace, or a fresh array with ``fresh=True`` (a U the backward will reuse).  The
    output channels are cut into parts, one per thread (threads.py)."""
    O, C = weight.shape[:2]
    buf, U = planes(O, C, weight.dtype, None if fresh else "winograd_U")
    weight = np.ascontiguousarray(weight)
    run_parts(lambda o0, o1: _weight_transform(weight, buf, o0, o1), split(O, work=16 * O * C, min_part_work=65536))
    return buf, U


def weight_transform_adjoint(grad_U_buf, O, C):
    """grad_w[o, c] = Gᵀ grad_U[:, o, c] G: planes → (O, C, 3, 3), the adjoint of ``weight_transform``."""
    grad_w = np.empty((O, C, 3, 3), dtype=grad_U_buf.dtype)
    _weight_transform_adjoint(grad_U_buf, grad_w)
    return grad_w


def _chunks(N, th, tw):
    """(n0, n1, ty0, ty1): the tiles cut into chunks of about CHUNK_TILES — whole samples n0 … n1 − 1
    when a sample has fewer tiles, else bands of tile rows ty0 … ty1 − 1 of one sample."""
    if th * tw <= CHUNK_TILES:
        step = CHUNK_TILES // (th * tw)
        return [(n0, min(N, n0 + step), 0, th) for n0 in range(0, N, step)]
    rows = max(1, CHUNK_TILES // tw)
    return [(n, n + 1, ty0, min(th, ty0 + rows)) for n in range(N) for ty0 in range(0, th, rows)]


def winograd_conv2d_forward(x, weight, bias, padding, out=None, U=None):
    """y = conv2d(x, w, b) for a 3×3 kernel, stride 1: V = Bᵀ d B, M[k] = U[k] V[k], y = Aᵀ M A.

    x (N, C, H, W) and weight (O, C, 3, 3) contiguous, same float dtype; returns y (N, O, Ho, Wo),
    written into ``out`` (contiguous) when given.  ``U``: ``weight_transform(weight)[1]`` when the
    caller has it (the parts of one convolution share it)."""
    # BEGIN SOLUTION A2: implement the fast Winograd forward: input transform, 16 batched GEMMs, output transform, chunk by chunk of samples
    N, C, H, W = x.shape
    O = weight.shape[0]
    Ho, Wo, th, tw = _tile_grid(H, W, padding)
    if U is None:
        _, U = weight_transform(weight)
    b = np.zeros(O, dtype=x.dtype) if bias is None else bias
    y = np.empty((N, O, Ho, Wo), dtype=x.dtype) if out is None else out
    for n0, n1, ty0, ty1 in _chunks(N, th, tw):
        T = (n1 - n0) * (ty1 - ty0) * tw
        V_buf, V = planes(C, T, x.dtype, "winograd_V")
        _input_transform(x[n0:n1], V_buf, padding[0], padding[1], ty0, ty1, tw)
        M_buf, M = planes(O, T, x.dtype, "winograd_M")
        np.matmul(U, V, out=M)  # M[k] = U[k] V[k]
        _output_transform(M_buf, b, y[n0:n1], ty0, ty1, tw)
    return y
    # END SOLUTION


def winograd_conv2d_backward(grad_out, x, weight, padding, need=(True, True), grad_input=None, U=None):
    """(grad_input, grad_weight) of the Winograd forward: Z = A g Aᵀ, grad_U = Z Vᵀ, grad_V = Uᵀ Z, then adjoints.

    ``need`` = (grad_input?, grad_weight?); a gradient not needed is None.  grad_input is written
    into ``grad_input`` (contiguous, x's shape) when given; ``U`` as in the forward."""
    # BEGIN SOLUTION A2: implement the fast Winograd backward: Z = A g A^T, grad_w = G^T (Z V^T) G, grad_x = input-transform adjoint of U^T Z
    N, C, H, W = x.shape
    O = weight.shape[0]
    _, _, th, tw = _tile_grid(H, W, padding)
    if need[0] and U is None:
        U = weight_transform(weight)[1]
    if need[1]:
        grad_U_buf, grad_U = planes(O, C, x.dtype, "winograd_grad_U")
        part = planes(O, C, x.dtype, "winograd_part")[1]
        grad_U[...] = 0
    grad_x = None
    if need[0]:
        grad_x = np.zeros_like(x) if grad_input is None else grad_input
        if grad_input is not None:
            grad_x[...] = 0  # the input-transform adjoint adds into it
    for n0, n1, ty0, ty1 in _chunks(N, th, tw):
        T = (n1 - n0) * (ty1 - ty0) * tw
        Z_buf, Z = planes(O, T, x.dtype, "winograd_M")
        _output_transform_adjoint(np.ascontiguousarray(grad_out[n0:n1]), Z_buf, ty0, ty1, tw)
        V_buf, V = planes(C, T, x.dtype, "winograd_V")
        if need[1]:
            _input_transform(x[n0:n1], V_buf, padding[0], padding[1], ty0, ty1, tw)
            grad_U += np.matmul(Z, V.transpose(0, 2, 1), out=part)  # grad_U[k] += Z[k] V[k]ᵀ
        if need[0]:
            np.matmul(U.transpose(0, 2, 1), Z, out=V)  # grad_V[k] = U[k]ᵀ Z[k], written over V
            _input_transform_adjoint(V_buf, grad_x[n0:n1], padding[0], padding[1], ty0, ty1, tw)
    grad_w = weight_transform_adjoint(grad_U_buf, O, C) if need[1] else None
    return grad_x, grad_w
    # END SOLUTION
