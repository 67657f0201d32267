r"""Batch normalization over the channel axis of an (N, C, *) array: forward and backward.

Forward, per channel c, over the M = N·H·W values x_k of that channel:

    training:  μ = (1/M) Σ x_k,   σ² = (1/M) Σ (x_k − μ)²            (biased variance)
    eval:      μ = running_mean[c], σ² = running_var[c]
    x̂_k = (x_k − μ) / √(σ² + ε),      y_k = γ x̂_k + β               (γ = 1, β = 0 without affine)

Training also updates the running statistics in place, with the *unbiased* variance
(m = momentum, or 1/num_batches_tracked for a cumulative average — the caller passes the
factor):

    running_mean ← (1 − m) running_mean + m μ
    running_var  ← (1 − m) running_var  + m σ² · M/(M − 1)

Backward.  Write s = 1/√(σ² + ε) and g_k = ∂L/∂y_k.  Directly, ∂L/∂β = Σ g_k and
∂L/∂γ = Σ g_k x̂_k.  For x, in training μ and σ² depend on every x_k:

    ∂L/∂x̂_k = γ g_k
    ∂x̂_k/∂x_j = s (δ_kj − 1/M) − s x̂_k x̂_j / M      (from ∂μ/∂x_j = 1/M, ∂s/∂x_j = −s³ (x_j − μ)/M)

so  ∂L/∂x_j = Σ_k γ g_k ∂x̂_k/∂x_j = γ s (g_j − (1/M) Σ_k g_k − x̂_j (1/M) Σ_k g_k x̂_k), i.e.

    dx = γ/√(σ² + ε) · (g − mean(g) − x̂ · mean(g · x̂))

In eval mode μ and σ² are constants:  dx = g · γ / √(running_var + ε).

Both are per-channel affine maps of g and x:  dx = α·g + β'·x + δ with per-channel
coefficients (training: α = γs, β' = −γs²·mean(g x̂), δ = γs(μ s·mean(g x̂) − mean(g))),
which is how the fast kernel evaluates them in one pass.

Read the numpy twins first (``batch_norm_forward_reference``, ``batch_norm_backward_reference``);
``batch_norm_forward`` / ``batch_norm_backward`` are the public kernels, which run the numba
path below, or the twins when ``MINITUNE_NO_JIT=1``.  Both paths update the running
statistics with the one helper ``update_running_stats``.

Performance contract: in training, one numba kernel per direction does each channel whole while
it is in cache — ``_channel_normalize`` (two-pass mean / variance, then y = scale·x + shift) and
``_channel_backward`` (Σ g and Σ g·x̂ in one pass, then dx = α·g + β'·x + δ) —, and in eval mode
``_channel_scale`` (out = a[c]·u + d[c], one pass) and ``_channel_sums``.  The channels are cut
into parts, one per thread (threads.py); each part writes only its own channels.  The
statistics accumulate in float64 even for float32 data, as torch's CPU kernel, in sums LLVM may
reorder onto vector accumulators (``reassociate``, jit.py); these kernels are bound by memory
bandwidth.  Timings: benchmarks/README.md.
"""
import numpy as np

from .jit import NO_JIT, njit, prange
from .threads import run_parts, split


def _as_ncl(x):
    """(N, C, *) → (N, C, L) view (L = product of the trailing sizes, 1 for 2-D input)."""
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


def _check_train_size(x):
    """M, the number of values per channel; ValueError (torch's message) when M ≤ 1 in training."""
    M = x.size // x.shape[1]
    if M <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}")
    return M


# ---------------------------------------------------------------- numpy twin (slow, obviously right)

def update_running_stats(running_mean, running_var, mean, var, M, factor):
    """In place: running_mean ← (1 − m)·running_mean + m·μ, running_var ← (1 − m)·running_var + m·σ²·M/(M − 1).

    m = ``factor`` (momentum, or 1/num_batches_tracked); σ² is the biased batch variance of M
    values, so σ²·M/(M − 1) is the unbiased one torch stores.  Either buffer may be None."""
    # BEGIN SOLUTION A2: implement the running-statistics update (momentum average, unbiased variance)
    if running_mean is not None:
        running_mean *= 1 - factor
        running_mean += factor * mean
    if running_var is not None:
        running_var *= 1 - factor
        running_var += factor * var * M / (M - 1)
    # END SOLUTION


def batch_norm_forward_reference(x, weight, bias, running_mean, running_var, training, factor, eps):
    """numpy twin.  Returns (y, mean, invstd); updates running_mean/var in place when training."""
    # BEGIN SOLUTION A2: implement the numpy twin of the batch norm forward (batch statistics and update_running_stats in training, running statistics in eval mode)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        M = _check_train_size(x)
        mean = x.mean(axis=axes, dtype=np.float64)
        var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes, dtype=np.float64)
        update_running_stats(running_mean, running_var, mean, var, M, factor)
    else:
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    invstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
    y = xhat
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y.astype(x.dtype), mean.astype(x.dtype), invstd.astype(x.dtype)
    # END SOLUTION


def batch_norm_backward_reference(grad_out, x, weight, mean, invstd, training, need=(True, True, True)):
    """numpy twin of dx = γs(g − mean(g) − x̂·mean(g x̂)) (training) or γ s g (eval); dγ = Σ g x̂; dβ = Σ g."""
    # BEGIN SOLUTION A2: implement the numpy twin of the compact batch norm backward
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    gamma = np.ones_like(mean) if weight is None else weight
    xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
    g = grad_out  # the formula's g
    if training:
        dx = (gamma * invstd).reshape(shape) * (g - g.mean(axis=axes, keepdims=True)
                                                - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    else:
        dx = (gamma * invstd).reshape(shape) * g
    dgamma = (g * xhat).sum(axis=axes)
    dbeta = g.sum(axis=axes)
    return (dx.astype(x.dtype) if need[0] else None, dgamma.astype(x.dtype) if need[1] else None,
            dbeta.astype(x.dtype) if need[2] else None)
    # END SOLUTION


# ---------------------------------------------------------------- the public kernels

def batch_norm_forward(x, weight, bias, running_mean, running_var, training, factor, eps):
    """(y, mean, invstd) of y = γ(x − μ)/√(σ² + ε) + β over axis 1 of x (N, C, *).

    weight γ, bias β (C,) or None; running_mean/var (C,) or None, updated in place when
    ``training`` (factor m, see ``update_running_stats``), used as μ, σ² otherwise.  Returns y
    of x's shape and dtype, and the per-channel μ and s = 1/√(σ² + ε) the backward needs.
    Fast: batch statistics in one numba pass (float64 sums), then y = scale·x + shift in
    another; the numpy twin with ``MINITUNE_NO_JIT=1``.
    """
    if NO_JIT:
        return batch_norm_forward_reference(x, weight, bias, running_mean, running_var, training, factor, eps)
    return _batch_norm_forward_fast(x, weight, bias, running_mean, running_var, training, factor, eps)


def batch_norm_backward(grad_out, x, weight, mean, invstd, training, need=(True, True, True)):
    """(dx, dγ, dβ) for upstream grad_out g: dx = γs(g − mean(g) − x̂·mean(g x̂)) (training) or γ s g (eval).

    dγ = Σ g x̂, dβ = Σ g per channel; ``need`` says which to compute (the others are None).
    Fast: Σg and Σg·x̂ in one numba pass, then dx = α·g + β′·x + δ in another; the numpy
    twin with ``MINITUNE_NO_JIT=1``.
    """
    if NO_JIT:
        return batch_norm_backward_reference(grad_out, x, weight, mean, invstd, training, need)
    return _batch_norm_backward_fast(grad_out, x, weight, mean, invstd, training, need)


# ---------------------------------------------------------------- numba kernels

# The reductions below run over one contiguous (n, c) row of L values at a time, accumulating in
# float64.  ``reassociate=True`` (jit.py) lets LLVM split each sum over several vector
# accumulators; strictly in order, a sum is a chain of dependent adds.  The element-wise passes
# index flat views with unsigned integers: with a signed index numba tests it for negative values
# and LLVM keeps the loop scalar.  Measured on layer1's backward kernel, one thread: 2.29 ms with
# the hand-unrolled four-accumulator sums and signed passes used before, 1.53 ms with reassociated
# sums, 1.1 ms with unsigned passes as well.

@njit(reassociate=True)
def _row_sum(f, base, L):
    """Σ f[base + k] for k < L, in float64."""
    s = 0.0
    for k in range(np.uint64(base), np.uint64(base + L)):
        s += f[k]
    return s


@njit(reassociate=True)
def _row_sq(f, base, L, m):
    """Σ (f[base + k] − m)² for k < L, in float64."""
    s = 0.0
    for k in range(np.uint64(base), np.uint64(base + L)):
        d = f[k] - m
        s += d * d
    return s


@njit(reassociate=True)
def _row_sum_dot(g, f, base, L, m):
    """(Σ g[base + k],  Σ g[base + k]·(f[base + k] − m)) for k < L, in float64."""
    a = 0.0
    b = 0.0
    for k in range(np.uint64(base), np.uint64(base + L)):
        a += g[k]
        b += g[k] * (f[k] - m)
    return a, b


@njit(inline=True)
def _row_scale(u, out, base, L, a, d):
    """out[base + k] = a·u[base + k] + d for k < L (not _row_affine with b = 0: 0·inf would make an inf NaN)."""
    for k in range(np.uint64(base), np.uint64(base + L)):
        out[k] = a * u[k] + d


@njit(inline=True)
def _row_affine(u, v, out, base, L, a, b, d):
    """out[base + k] = a·u[base + k] + b·v[base + k] + d for k < L."""
    for k in range(np.uint64(base), np.uint64(base + L)):
        out[k] = a * u[k] + b * v[k] + d


@njit()
def _channel_sum_dot(gf, xf, N, C, L, c, m):
    """(Σ g, Σ g·(x − m)) over channel c of the flat (N, C, L) arrays g and x, in float64."""
    a = 0.0
    b = 0.0
    for n in range(N):
        sa, sb = _row_sum_dot(gf, xf, (n * C + c) * L, L, m)
        a += sa
        b += sb
    return a, b


@njit(parallel=True)
def _channel_normalize(xf, shape, gamma, beta, eps, yf, mean, var, coef, c0, c1):
    """Training forward of channels c0 ≤ c < c1, each while it is in cache: μ, σ² (two passes,
    float64), scale = γ/√(σ² + ε), shift = β − μ·scale (rounded to x's dtype in ``coef``), then
    y = scale·x + shift.  x, y: flat views of (N, C, L) = ``shape`` arrays."""
    N, C, L = shape
    for c in prange(c0, c1):
        s = 0.0
        for n in range(N):
            s += _row_sum(xf, (n * C + c) * L, L)
        m = s / (N * L)
        q = 0.0
        for n in range(N):
            q += _row_sq(xf, (n * C + c) * L, L, m)
        mean[c] = m
        var[c] = q / (N * L)
        scale = gamma[c] * (1.0 / np.sqrt(var[c] + eps))
        coef[0, c] = scale
        coef[1, c] = beta[c] - m * scale
        for n in range(N):
            _row_scale(xf, yf, (n * C + c) * L, L, coef[0, c], coef[1, c])


@njit(parallel=True)
def _channel_backward(gf, xf, shape, mean, invstd, gamma, df, sum_g, sum_gx, coef, c0, c1):
    """Training backward of channels c0 ≤ c < c1, each while it is in cache: Σg, Σg·x̂ (float64),
    then dx = α·g + β′·x + δ (module docstring; α, β′, δ rounded to x's dtype in ``coef``).
    g, x, dx: flat views of (N, C, L) = ``shape`` arrays."""
    N, C, L = shape
    M = N * L
    for c in prange(c0, c1):
        m = mean[c]
        sum_g[c], b = _channel_sum_dot(gf, xf, N, C, L, c, m)
        sum_gx[c] = b * invstd[c]
        alpha = gamma[c] * invstd[c]
        coef[0, c] = alpha
        coef[1, c] = -alpha * invstd[c] * sum_gx[c] / M
        coef[2, c] = alpha * (m * invstd[c] * sum_gx[c] / M - sum_g[c] / M)
        for n in range(N):
            _row_affine(gf, xf, df, (n * C + c) * L, L, coef[0, c], coef[1, c], coef[2, c])


@njit(parallel=True)
def _channel_sums(gf, xf, shape, mean, invstd, sum_g, sum_gx, c0, c1):
    """Σ g[c] and Σ g[c]·x̂[c] with x̂ = (x − mean)·invstd for c0 ≤ c < c1, float64 accumulators
    (g, x: flat views of (N, C, L) = ``shape`` arrays)."""
    N, C, L = shape
    for c in prange(c0, c1):
        sum_g[c], b = _channel_sum_dot(gf, xf, N, C, L, c, mean[c])
        sum_gx[c] = b * invstd[c]


@njit(parallel=True)
def _channel_scale(uf, shape, a, d, of, c0, c1):
    """out[n, c, k] = a[c]·u[n, c, k] + d[c] for c0 ≤ c < c1 (the eval-mode forward and backward;
    u, out: flat views of (N, C, L) = ``shape`` arrays)."""
    N, C, L = shape
    for c in prange(c0, c1):
        for n in range(N):
            _row_scale(uf, of, (n * C + c) * L, L, a[c], d[c])


# Channels are cut into parts (one per thread, threads.py) of at least this many values each:
# below, the ~75 µs of handing a part to another thread cost more than the part (ResNet-18's
# layer3 at batch 8, 400K values: forward 0.16 ms, backward 0.18 on one thread, 0.21 and 0.22 on two).
MIN_PART_VALUES = 262144


def _over_channels(kernel, x3, *args):
    """kernel(*args, c0, c1) for the channels of x3 (N, C, L) cut into parts, one per thread."""
    run_parts(lambda c0, c1: kernel(*args, c0, c1), split(x3.shape[1], work=x3.size, min_part_work=MIN_PART_VALUES))


def _batch_norm_forward_fast(x, weight, bias, running_mean, running_var, training, factor, eps):
    """Training: μ, σ² and y = scale·x + shift channel by channel (``_channel_normalize``); eval:
    y = scale·x + shift with the running μ, σ² (``_channel_scale``); scale = γs, shift = β − μ·scale."""
    # BEGIN SOLUTION A2: implement the fast batch norm forward (per-channel statistics with the numba kernels, then y = scale x + shift)
    x3 = _as_ncl(x)
    C, dt = x3.shape[1], x.dtype
    gamma = np.ones(C) if weight is None else weight.astype(np.float64)
    beta = np.zeros(C) if bias is None else bias.astype(np.float64)
    y = np.empty_like(x3)
    if training:
        M = _check_train_size(x)
        mean, var, coef = np.empty(C), np.empty(C), np.empty((2, C), dtype=dt)
        _over_channels(_channel_normalize, x3, x3.reshape(-1), x3.shape, gamma, beta, eps, y.reshape(-1), mean, var,
                       coef)
        update_running_stats(running_mean, running_var, mean, var, M, factor)
    else:
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    invstd = 1.0 / np.sqrt(var + eps)
    if not training:
        scale = gamma * invstd  # y = scale·x + (β − μ·scale)
        _over_channels(_channel_scale, x3, x3.reshape(-1), x3.shape, scale.astype(dt), (beta - mean * scale).astype(dt),
                       y.reshape(-1))
    return y.reshape(x.shape), mean.astype(dt), invstd.astype(dt)
    # END SOLUTION


def _batch_norm_backward_fast(grad_out, x, weight, mean, invstd, training, need=(True, True, True)):
    """Training: Σg, Σg·x̂ and dx = α·g + β′·x + δ channel by channel (``_channel_backward``, module
    docstring); eval: dx = γs·g (``_channel_scale``), and Σg, Σg·x̂ (``_channel_sums``) when dγ, dβ are needed."""
    # BEGIN SOLUTION A2: implement the fast compact batch norm backward (dx = alpha g + beta' x + delta)
    dt = x.dtype
    g3, x3 = _as_ncl(grad_out), _as_ncl(x)
    C = g3.shape[1]
    mean64, invstd64 = mean.astype(np.float64), invstd.astype(np.float64)
    gamma = np.ones_like(mean64) if weight is None else weight.astype(np.float64)
    sum_g, sum_gx, dx = np.empty(C), np.empty(C), None
    if training and need[0]:
        dx = np.empty_like(g3)
        _over_channels(_channel_backward, g3, g3.reshape(-1), x3.reshape(-1), g3.shape, mean64, invstd64, gamma,
                       dx.reshape(-1), sum_g, sum_gx,
                       np.empty((3, C), dtype=dt))
    else:
        if training or need[1] or need[2]:
            _over_channels(_channel_sums, g3, g3.reshape(-1), x3.reshape(-1), g3.shape, mean64, invstd64, sum_g, sum_gx)
        if need[0]:  # eval: μ and σ² are constants, dx = γs·g
            dx = np.empty_like(g3)
            _over_channels(_channel_scale, g3, g3.reshape(-1), g3.shape, (gamma * invstd64).astype(dt),
                           np.zeros(C, dtype=dt), dx.reshape(-1))
    dx = None if dx is None else dx.reshape(x.shape)
    dgamma = sum_gx.astype(dt) if need[1] else None
    dbeta = sum_g.astype(dt) if need[2] else None
    return dx, dgamma, dbeta
    # END SOLUTION
