r"""2-D convolution (cross-correlation) forward and backward, NCHW input, OIHW weight.

Read ``conv2d_forward_reference`` and ``conv2d_backward_reference`` first: the numpy twins
are the formulas below, one einsum per kernel offset.  ``conv2d_forward`` and
``conv2d_backward`` are the public kernels; they run the fast paths below, or the twins when
``MINITUNE_NO_JIT=1``.

Forward, for groups G (input channels C = G·C_g, output channels O = G·O_g; output channel
o belongs to group ``group = o // O_g`` and reads input channels group·C_g … group·C_g + C_g − 1):

    y[n, o, oh, ow] = b[o] + Σ_{c<C_g} Σ_{i<kh} Σ_{j<kw}
                      w[o, c, i, j] · x_pad[n, group·C_g + c, oh·s_h + i·d_h, ow·s_w + j·d_w]

with x_pad the input padded by p zeros on each side.  The output size is

    Ho = ⌊(H + 2p_h − d_h(kh − 1) − 1) / s_h⌋ + 1       (Wo likewise).

As GEMMs (``im2col``, see im2col.py): col = im2col(x) of shape (G, C_g·kh·kw, N·L),
L = Ho·Wo (the whole batch side by side), and W₂ = w.reshape(G, O_g, C_g·kh·kw):

    Y[group] = W₂[group] · col[group]                    (O_g × N·L),  y = Y as (N, O, Ho, Wo)

Backward, with upstream gradient grad_out (g_y) of y's shape, laid out as Gy (G, O_g, N·L):

    grad_bias[o]       = Σ_{n, oh, ow} g_y[n, o, oh, ow]
    grad_weight[group] = Gy[group] · col[group]ᵀ         (O_g × C_g·kh·kw)
    grad_input         = col2im(W₂ᵀ · Gy)                (col2im is im2col's adjoint)

The last line is the "full" correlation of g_y (dilated by the stride, padded by
d(k−1) − p) with the kernel flipped in both spatial axes and with in/out channels
swapped — i.e. a transposed convolution; col2im computes it without building the
flipped kernel.

Fast paths (chosen per call by shape; each computes the formulas above):

0. **Direct** (direct_conv.py: forward and grad_weight) for a batch, a small C·kh·kw (≤ 256) and
   output rows of ≥ 32 pixels — ResNet's stem: each output (each weight gradient) summed straight
   from the input, no im2col (the 7.4 MB of columns per 224×224 image are never written).
1. **Winograd F(2×2, 3×3)** (winograd.py) for 3×3 stride-1 convolutions with enough tiles
   (``WINOGRAD_MIN_TILES``: ResNet-18's layer1-3 from batch 8, layer4's forward from batch 16):
   16 multiplies per 2×2 output tile instead of 36, as 16 batched GEMMs.
2. **Per sample** for groups = 1 and planes of L ≥ ``PER_SAMPLE_MIN_L`` pixels: col[n] =
   im2col(x[n]) (K × L, K = C·kh·kw), y[n] = W₂ · col[n] written straight into the NCHW
   output; grad_weight = Σₙ g[n] · col[n]ᵀ with g[n] = grad_out[n] as (O, L);
   grad_input[n] = col2im(W₂ᵀ · g[n]).  A sample's columns stay in cache between im2col and
   the GEMM, and no (O, N·L) ↔ NCHW transpose is needed.
3. **Whole batch** otherwise (small planes, groups > 1): one GEMM per group over (C_g·kh·kw,
   N·L) columns — per-sample GEMMs would be skinny (L = 49 for layer4).

Threads: every path runs on the batch cut into parts, one per thread (threads.py): each part is
the serial path on its samples — its own im2col columns or Winograd tiles in its thread's
workspace, its GEMMs with BLAS on one thread, its slice of y or grad_input — and the parts'
partial sums of grad_weight and grad_bias are added at the end.  Only the Winograd weight
transform U is shared (computed once per call; a forward recorded for autograd keeps its U for
the backward's grad_input, ``keep_weight_transform``: ResNet-18's batch-8 step 431 → 428 ms).
The im2col backward (paths 2-3) is cut by task instead: grad_weight on one thread and
grad_input on another, each over the whole batch (each GEMM keeps all N·L columns and no partial
sums are added; ``_conv2d_backward_two_tasks``).
A forward that cannot be cut (one image) cuts its GEMMs into column blocks instead
(``matmul_in_parts``); a one-image backward runs on one thread.

The GEMMs are ``np.matmul`` (BLAS sgemm; matmul.py says why not our numba GEMM); im2col,
col2im and the Winograd transforms are numba kernels.  The columns live in a reused
workspace (workspace.py): the backward recomputes im2col(x) rather than keeping every
layer's columns alive from the forward (far less memory, and no slower — the page faults
of fresh memory cost more than the second im2col).  A 1×1 kernel with no padding needs
no im2col (col is x itself, channel-major, sub-sampled by the stride).  Timings of each
of these choices: benchmarks/README.md.
"""
import numpy as np

from .direct_conv import direct_applies, direct_conv2d, direct_conv2d_grad_weight
from .im2col import col2im, im2col
from .jit import NO_JIT
from .matmul import matmul_in_parts
from .threads import get_num_threads, run_parts, split
from .winograd import weight_transform, winograd_applies, winograd_conv2d_backward, winograd_conv2d_forward
from .workspace import scratch


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
    for group in range(groups):
        xs, os_ = slice(group * Cg, (group + 1) * Cg), slice(group * Og, (group + 1) * Og)
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
    for group in range(groups):
        xs, os_ = slice(group * Cg, (group + 1) * Cg), slice(group * Og, (group + 1) * Og)
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


# ---------------------------------------------------------------- the public kernels

def conv2d_forward(x, weight, bias, stride, padding, dilation, groups, return_columns=False,
                   keep_weight_transform=False):
    """y = conv2d(x, w, b) (the module docstring's first formula).

    x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) or None, all of one float dtype;
    stride, padding, dilation are (h, w) pairs.  Returns y (N, O, Ho, Wo), a fresh array.
    Fast: Winograd for 3×3 stride 1, else im2col + one BLAS GEMM per sample (large planes)
    or per group (whole batch); the numpy twin with ``MINITUNE_NO_JIT=1``.
    ``return_columns=True`` also returns im2col(x) for ``conv2d_backward(col=…)`` (the twin returns None).
    ``keep_weight_transform=True`` returns (y, U): the Winograd weight transform U = G w Gᵀ when the
    forward computed it and the backward's grad_input will use it (``conv2d_backward(U=…)`` then
    skips computing it again), else None.
    """
    if NO_JIT:
        y = conv2d_forward_reference(x, weight, bias, stride, padding, dilation, groups)
        return (y, None) if return_columns or keep_weight_transform else y
    return _conv2d_forward_fast(x, weight, bias, stride, padding, dilation, groups, return_columns,
                                keep_weight_transform)


def conv2d_backward(grad_out, x, weight, stride, padding, dilation, groups, need=(True, True, True), col=None,
                    U=None):
    """(grad_input, grad_weight, grad_bias) of y = conv2d(x, w, b) for the upstream gradient ``grad_out``.

    grad_input = col2im(W₂ᵀ·Gy) (N, C, H, W), grad_weight = Gy·colᵀ (O, C/groups, kh, kw),
    grad_bias = Σ grad_out over (n, oh, ow) (O,); ``need`` says which to compute (the others are
    None).  ``col``: the forward's columns (``return_columns=True``), else im2col is recomputed.
    ``U``: the forward's Winograd weight transform (``keep_weight_transform=True``), else computed here.
    Fast paths as ``conv2d_forward``; the numpy twin with ``MINITUNE_NO_JIT=1``.
    """
    if NO_JIT:
        return conv2d_backward_reference(grad_out, x, weight, stride, padding, dilation, groups, need)
    return _conv2d_backward_fast(grad_out, x, weight, stride, padding, dilation, groups, need, col, U)


# ---------------------------------------------------------------- fast paths: Winograd, im2col + BLAS GEMM

# Convolutions whose output plane has at least this many pixels run one sample at a time (see the
# module docstring); smaller ones (ResNet-18's layer3-4: 196 and 49) as one GEMM over the batch.
PER_SAMPLE_MIN_L = 256
# 3×3 stride-1 convolutions use Winograd when they have at least this many 2×2 output tiles per
# sample and in all: below, the tile transforms and the skinny GEMMs cost more than the multiplies
# they save.  ResNet-18's layer4 (16 tiles per sample, 3.75 of their pixels padding): its forward
# gains from batch 16 (7x7 planes, batch 16 / 32 / 64: 16.2 → 14.5, 29.6 → 23.9, 61 → 45 ms), its
# backward only from batch 64 and loses at 16-32 (32 → 42, 58 → 62 ms; benchmarks/README.md), so
# the forward and the backward have their own threshold per sample.
WINOGRAD_MIN_TILES_PER_SAMPLE = 36
WINOGRAD_MIN_TILES_PER_SAMPLE_FORWARD = 16
WINOGRAD_MIN_TILES = 256
WINOGRAD_MIN_SAMPLES = 2  # see _use_winograd
# A whole-batch forward with at most this many output columns (N·L) is cut by input channels, not
# by samples (``_conv2d_forward_channel_parts``): at 1568 columns (layer4 stride 2, batch 32)
# cutting the channels is slower, 14.7 → 15.2 ms; at 392 (batch 8) faster, 3.90 → 3.60.
CHANNEL_PARTS_MAX_COLUMNS = 512
# A convolution is cut into parts (one per thread) only when each part has at least this many
# multiply-adds: below, handing a part to another thread costs more than it saves.
MIN_PART_MULTIPLIES = 2_000_000


def _use_winograd(x_shape, kernel, stride, padding, dilation, groups, forward=False):
    """Winograd for a 3×3 stride-1 convolution of at least two samples with enough tiles (``forward``:
    the forward's threshold per sample, see WINOGRAD_MIN_TILES_PER_SAMPLE_FORWARD).

    One sample (predicting one image) stays on im2col: the gain is a millisecond, while compiling
    the Winograd kernels in a process with an empty numba cache costs ~2.5 s of CPU time."""
    if not winograd_applies(kernel, stride, dilation, groups):
        return False
    N, _, H, W = x_shape
    if N < WINOGRAD_MIN_SAMPLES:
        return False
    tiles = ((H + 2 * padding[0] - 1) // 2) * ((W + 2 * padding[1] - 1) // 2)  # ⌈Ho/2⌉·⌈Wo/2⌉
    per_sample = WINOGRAD_MIN_TILES_PER_SAMPLE
    if forward:
        per_sample = min(per_sample, WINOGRAD_MIN_TILES_PER_SAMPLE_FORWARD)
    return tiles >= per_sample and N * tiles >= WINOGRAD_MIN_TILES


def _is_pointwise(kernel, padding):
    """A 1×1 kernel without padding: col = x.  (Dilation spreads a kernel's taps apart; a 1×1
    kernel has one tap, so any dilation gives the same convolution.)"""
    return kernel == (1, 1) and padding == (0, 0)


def _batch_to_columns(a):
    """(N, C, h, w) → (C, N·h·w): the channel-major layout the GEMMs use."""
    N, C = a.shape[:2]
    return np.ascontiguousarray(a.reshape(N, C, -1).transpose(1, 0, 2)).reshape(C, -1)


def _columns_to_batch(a, N, H, W, out=None):
    """(C, N·H·W) → (N, C, H, W), contiguous (written into ``out`` when given)."""
    C = a.shape[0]
    if out is None:
        return np.ascontiguousarray(a.reshape(C, N, H, W).transpose(1, 0, 2, 3))
    out[...] = a.reshape(C, N, H, W).transpose(1, 0, 2, 3)
    return out


def conv2d_columns(x, kernel, stride, padding, dilation, reuse=False):
    """col = im2col(x), shape (C·kh·kw, N·Ho·Wo); for a 1×1 kernel, x sub-sampled by the stride.

    ``reuse=True`` writes the columns into the shared workspace (see workspace.py).
    """
    N, C, H, W = x.shape
    Ho, Wo = conv2d_output_size(H, W, kernel, stride, padding, dilation)
    if _is_pointwise(kernel, padding):
        return _batch_to_columns(x if stride == (1, 1) else x[:, :, ::stride[0], ::stride[1]])
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    out = scratch((C * kh * kw, N * Ho * Wo), x.dtype) if reuse else None
    return im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out=out)


def _conv_parts(x, weight, Ho, Wo):
    """The batch cut into parts of samples, one per thread (threads.py); one part for small convolutions."""
    O, Cg, kh, kw = weight.shape
    multiplies = x.shape[0] * O * Ho * Wo * Cg * kh * kw
    return split(x.shape[0], work=multiplies, min_part_work=MIN_PART_MULTIPLIES)


def _conv2d_forward_fast(x, weight, bias, stride, padding, dilation, groups, return_columns=False,
                         keep_weight_transform=False):
    """Dispatch to the Winograd, per-sample or whole-batch forward (module docstring), the batch in parts;
    ``keep_weight_transform``: return (y, U) as ``conv2d_forward`` says."""
    x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
    if return_columns:
        return _conv2d_forward_batched(x, weight, bias, stride, padding, dilation, groups, return_columns)
    # U is kept only where the backward's grad_input will run Winograd too (its threshold is higher)
    keep = keep_weight_transform and _use_winograd(x.shape, weight.shape[2:], stride, padding, dilation, groups)
    y, U = _conv2d_forward_paths(x, weight, bias, stride, padding, dilation, groups, fresh_U=keep)
    return (y, U if keep else None) if keep_weight_transform else y


def _conv2d_forward_paths(x, weight, bias, stride, padding, dilation, groups, fresh_U):
    """(y, U) for contiguous x and weight: U the Winograd weight transform the forward used (in a fresh
    array when ``fresh_U``, else in the workspace), None on the other paths."""
    N, C, H, W = x.shape
    kernel = weight.shape[2:]
    Ho, Wo = conv2d_output_size(H, W, kernel, stride, padding, dilation)
    y = np.empty((N, weight.shape[0], Ho, Wo), dtype=x.dtype)
    U = None
    if direct_applies(x.shape, weight.shape[0], kernel, stride, padding, dilation, groups):
        return direct_conv2d(x, weight, bias, stride, padding, out=y), None  # in parts itself
    if _use_winograd(x.shape, kernel, stride, padding, dilation, groups, forward=True):
        U = weight_transform(weight, fresh=fresh_U)[1]  # once, shared by the parts

        def part(lo, hi):
            winograd_conv2d_forward(x[lo:hi], weight, bias, padding, out=y[lo:hi], U=U)
    elif groups == 1 and Ho * Wo >= PER_SAMPLE_MIN_L:
        def part(lo, hi):
            _conv2d_forward_per_sample(x[lo:hi], weight, bias, stride, padding, dilation, out=y[lo:hi])
    elif (groups == 1 and not _is_pointwise(kernel, padding) and N * Ho * Wo <= CHANNEL_PARTS_MAX_COLUMNS
          and len(_conv_parts(x, weight, Ho, Wo)) > 1):
        return _conv2d_forward_channel_parts(x, weight, bias, stride, padding, dilation, out=y), None
    else:
        def part(lo, hi):
            _conv2d_forward_batched(x[lo:hi], weight, bias, stride, padding, dilation, groups, out=y[lo:hi])
    run_parts(part, _conv_parts(x, weight, Ho, Wo))
    return y, U


def _conv2d_forward_channel_parts(x, weight, bias, stride, padding, dilation, out):
    """groups = 1, the whole batch: y = Σ_parts W₂[:, part] · im2col(x[:, part]) (+ b), written into ``out``.

    The input channels are cut into parts, one per thread: each unfolds its channels for the whole
    batch and multiplies them by its columns of W₂ (a view, no copy); the partial products are
    added, then (O, N·L) → NCHW.  For convolutions with few output columns (N·L ≤
    ``CHANNEL_PARTS_MAX_COLUMNS``), where cutting the samples would leave each thread's GEMM half
    of them: ResNet-18's layer4 at batch 8 (392 columns), 3×3 7.40 → 7.00 ms, stride 2 3.90 → 3.60."""
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    Ho, Wo = conv2d_output_size(H, W, (kh, kw), stride, padding, dilation)
    w2 = weight.reshape(O, C * kh * kw)

    def part(c0, c1):
        col = im2col(np.ascontiguousarray(x[:, c0:c1]), kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo,
                     out=scratch(((c1 - c0) * kh * kw, N * Ho * Wo), x.dtype))
        return np.matmul(w2[:, c0 * kh * kw:c1 * kh * kw], col)

    Y, *others = run_parts(part, split(C))
    for partial in others:
        Y += partial
    if bias is not None:
        Y += bias[:, None]
    return _columns_to_batch(Y, N, Ho, Wo, out)


def _conv2d_forward_per_sample(x, weight, bias, stride, padding, dilation, out=None):
    """groups = 1: y[n] = W₂ · im2col(x[n]) (+ b), written in place into the NCHW output (``out`` when given)."""
    # BEGIN SOLUTION A2: implement the per-sample conv2d forward for large planes (y[n] = W2 im2col(x[n]), written straight into y)
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    Ho, Wo = conv2d_output_size(H, W, (kh, kw), stride, padding, dilation)
    w2 = weight.reshape(O, C * kh * kw)
    y = np.empty((N, O, Ho, Wo), dtype=x.dtype) if out is None else out
    for n in range(N):
        yn = y[n].reshape(O, Ho * Wo)
        matmul_in_parts(w2, conv2d_columns(x[n:n + 1], (kh, kw), stride, padding, dilation, reuse=True), out=yn)
        if bias is not None:
            yn += bias[:, None]
    return y
    # END SOLUTION


def _conv2d_forward_batched(x, weight, bias, stride, padding, dilation, groups, return_columns=False, out=None):
    """The whole batch side by side: Y[group] = W₂[group] · col[group], then (O, N·L) → NCHW (into ``out`` when given)."""
    # BEGIN SOLUTION A2: implement the fast conv2d forward: im2col, then one GEMM Y = W2 col per group
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    G, Og, K = groups, O // groups, Cg * kh * kw
    Ho, Wo = conv2d_output_size(H, W, (kh, kw), stride, padding, dilation)
    col = conv2d_columns(x, (kh, kw), stride, padding, dilation, reuse=not return_columns)
    w2 = weight.reshape(G, Og, K)
    Y = matmul_in_parts(w2[0], col) if G == 1 else np.matmul(w2, col.reshape(G, K, -1))  # one sgemm per group
    if bias is not None:
        Y = Y.reshape(O, -1)
        Y += bias[:, None]
    y = _columns_to_batch(Y.reshape(O, -1), N, Ho, Wo, out)
    return (y, col) if return_columns else y
    # END SOLUTION


def _conv2d_backward_fast(grad_out, x, weight, stride, padding, dilation, groups, need=(True, True, True),
                          col=None, U=None):
    """(grad_input, grad_weight, grad_bias), the batch in parts (one per thread): each part writes its
    samples' grad_input and returns its partial sums of grad_weight and grad_bias, added here.
    Winograd computes grad_input and grad_weight together, else one function each; ``U``: the
    forward's weight transform, if it kept one."""
    x, grad_out, weight = np.ascontiguousarray(x), np.ascontiguousarray(grad_out), np.ascontiguousarray(weight)
    if need[1] and col is None and direct_applies(x.shape, weight.shape[0], weight.shape[2:], stride, padding,
                                                  dilation, groups):  # grad_weight by the direct kernel, the rest here
        rest = (need[0], False, need[2])
        grad_input, _, grad_bias = (_conv2d_backward_fast(grad_out, x, weight, stride, padding, dilation, groups, rest)
                                    if need[0] or need[2] else (None, None, None))
        return grad_input, direct_conv2d_grad_weight(grad_out, x, weight.shape, stride, padding), grad_bias
    if col is not None:  # the forward's columns cover the whole batch: one part
        return (_conv2d_grad_input(grad_out, x, weight, stride, padding, dilation, groups) if need[0] else None,
                _conv2d_grad_weight(grad_out, x, weight, stride, padding, dilation, groups, col) if need[1] else None,
                _conv2d_grad_bias(grad_out) if need[2] else None)
    winograd = _use_winograd(x.shape, weight.shape[2:], stride, padding, dilation, groups)
    parts = _conv_parts(x, weight, *grad_out.shape[2:])
    if not winograd and need[0] and need[1] and len(parts) > 1:
        return _conv2d_backward_two_tasks(grad_out, x, weight, stride, padding, dilation, groups, need[2])
    if winograd and need[0] and U is None:
        U = weight_transform(weight)[1]  # once, shared by the parts
    grad_input = np.empty_like(x) if need[0] else None

    def part(lo, hi):
        g, xs, gx = grad_out[lo:hi], x[lo:hi], grad_input[lo:hi] if need[0] else None
        if winograd:
            gw = winograd_conv2d_backward(g, xs, weight, padding, need[:2], grad_input=gx, U=U)[1]
        else:
            gw = _conv2d_grad_weight(g, xs, weight, stride, padding, dilation, groups) if need[1] else None
            if need[0]:
                _conv2d_grad_input(g, xs, weight, stride, padding, dilation, groups, out=gx)
        return gw, _conv2d_grad_bias(g) if need[2] else None

    parts = run_parts(part, parts)
    grad_weight, grad_bias = parts[0]
    for gw, gb in parts[1:]:  # Σ over the parts' samples (fresh arrays: added in place)
        if need[1]:
            grad_weight += gw
        if need[2]:
            grad_bias += gb
    return grad_input, grad_weight, grad_bias


def _conv2d_backward_two_tasks(grad_out, x, weight, stride, padding, dilation, groups, need_bias):
    """(grad_input, grad_weight, grad_bias) of an im2col convolution as two tasks on two threads,
    grad_weight (and grad_bias) on one, grad_input on the other, each over the whole batch; with
    T > 3 threads, the batch in T // 2 groups of samples, each group's two tasks on two threads.

    Cutting the batch instead (each thread both gradients for half the samples) gives each GEMM
    half the N·L columns, and ends with a sum of the threads' partial weight gradients (layer4's
    2.4 M numbers) on one thread: ResNet-18's layer4 3×3 backward, batch 8, 21.3 → 15.8 ms
    (benchmarks/README.md)."""
    grad_input = np.empty_like(x)

    def task(lo, hi, which):
        g = grad_out[lo:hi]
        if which == "input":
            _conv2d_grad_input(g, x[lo:hi], weight, stride, padding, dilation, groups, out=grad_input[lo:hi])
            return None, None
        return (_conv2d_grad_weight(g, x[lo:hi], weight, stride, padding, dilation, groups),
                _conv2d_grad_bias(g) if need_bias else None)

    samples = split(x.shape[0], threads=max(1, get_num_threads() // 2))
    results = run_parts(task, [(lo, hi, which) for lo, hi in samples for which in ("weight", "input")])
    grad_weight, grad_bias = results[0]
    for gw, gb in results[2::2]:  # Σ over the groups of samples
        grad_weight += gw
        if need_bias:
            grad_bias += gb
    return grad_input, grad_weight, grad_bias


def _conv2d_grad_bias(grad_out):
    """grad_bias[o] = Σ_{n, oh, ow} grad_out[n, o, oh, ow]."""
    # BEGIN SOLUTION A2: implement grad_bias, the sum of grad_out over every axis but the channels
    return grad_out.sum(axis=(0, 2, 3))
    # END SOLUTION


def _conv2d_grad_weight(grad_out, x, weight, stride, padding, dilation, groups, col=None):
    """grad_weight[group] = Gy[group] · col[group]ᵀ; per sample for large planes: Σₙ g[n] · col[n]ᵀ."""
    # BEGIN SOLUTION A2: implement the fast conv2d grad_weight = Gy col^T (per sample for large planes, else one GEMM per group)
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    G, Og, K = groups, O // groups, Cg * kh * kw
    _, _, Ho, Wo = grad_out.shape
    if G == 1 and col is None and Ho * Wo >= PER_SAMPLE_MIN_L:
        # accumulated transposed, grad_wᵀ += col[n] · g[n]ᵀ: BLAS runs this shape faster than g[n] · col[n]ᵀ
        gwt = np.zeros((K, O), dtype=x.dtype)
        part = np.empty((K, O), dtype=x.dtype)
        for n in range(N):
            col_n = conv2d_columns(x[n:n + 1], (kh, kw), stride, padding, dilation, reuse=True)
            gwt += np.matmul(col_n, grad_out[n].reshape(O, Ho * Wo).T, out=part)
        return np.ascontiguousarray(gwt.T).reshape(weight.shape)
    if col is None:  # recomputed into the workspace: cheaper than keeping it (see the module docstring)
        col = conv2d_columns(x, (kh, kw), stride, padding, dilation, reuse=True)
    Gy = _batch_to_columns(grad_out).reshape(G, Og, -1)  # (G, O_g, N·L)
    return np.matmul(Gy, col.reshape(G, K, -1).transpose(0, 2, 1)).reshape(O, Cg, kh, kw)
    # END SOLUTION


def _conv2d_grad_input(grad_out, x, weight, stride, padding, dilation, groups, out=None):
    """grad_input = col2im(W₂ᵀ · Gy); per sample for large planes: grad_input[n] = col2im(W₂ᵀ · g[n]).

    Written into ``out`` (contiguous, x's shape) when given."""
    # BEGIN SOLUTION A2: implement the fast conv2d grad_input = col2im(W2^T Gy) (per sample for large planes, else one GEMM per group)
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    G, Og, K = groups, O // groups, Cg * kh * kw
    _, _, Ho, Wo = grad_out.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    pointwise = _is_pointwise((kh, kw), padding)
    if G == 1 and Ho * Wo >= PER_SAMPLE_MIN_L:
        w2t = weight.reshape(O, K).T
        grad_x = np.empty_like(x) if out is None else out
        if stride != (1, 1):
            grad_x[...] = 0  # rows and columns the stride skips get no gradient
        for n in range(N):
            gcol = np.matmul(w2t, grad_out[n].reshape(O, Ho * Wo), out=scratch((K, Ho * Wo), x.dtype))
            if pointwise:
                grad_x[n, :, ::sh, ::sw] = gcol.reshape(C, Ho, Wo)
            else:
                grad_x[n] = col2im(gcol, 1, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)[0]
        return grad_x
    Gy = _batch_to_columns(grad_out).reshape(G, Og, -1)  # (G, O_g, N·L)
    gcol = scratch((G, K, N * Ho * Wo), x.dtype)
    np.matmul(weight.reshape(G, Og, K).transpose(0, 2, 1), Gy, out=gcol)  # W₂ᵀ Gy
    gcol = gcol.reshape(C * kh * kw, -1)  # (C·kh·kw, N·L)
    if not pointwise:
        return col2im(gcol, N, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out=out)
    if stride == (1, 1):
        return _columns_to_batch(gcol, N, H, W, np.empty_like(x) if out is None else out)
    grad_x = np.zeros_like(x) if out is None else out
    if out is not None:
        grad_x[...] = 0  # rows and columns the stride skips get no gradient
    grad_x[:, :, ::sh, ::sw] = gcol.reshape(C, N, Ho, Wo).transpose(1, 0, 2, 3)
    return grad_x
    # END SOLUTION
