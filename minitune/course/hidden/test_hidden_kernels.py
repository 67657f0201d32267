"""Hidden cases for assignment 2: conv2d and batch norm on the combinations the visible tests skip.

conv2d: asymmetric stride, padding and dilation with groups (rectangular kernels and inputs), for
both the numpy twin and the fast path, against direct loops over output pixels written here.
Batch norm: running statistics (unbiased variance, momentum), eval mode (running statistics, no
update), and the backward in both modes, against the textbook formulas written here.
"""
import numpy as np
import pytest

from minitune.kernels import batch_norm_backward, batch_norm_forward, conv2d_backward, conv2d_forward
from minitune.kernels.batch_norm import batch_norm_backward_reference, batch_norm_forward_reference
from minitune.kernels.conv2d import conv2d_backward_reference, conv2d_forward_reference

CONV = {"reference": (conv2d_forward_reference, conv2d_backward_reference), "fast": (conv2d_forward, conv2d_backward)}
BN = {"reference": (batch_norm_forward_reference, batch_norm_backward_reference),
      "fast": (batch_norm_forward, batch_norm_backward)}


def direct_conv(x, w, b, stride, padding, dilation, groups):
    """y[n, o, p, q] = b[o] + Σ_{c in o's group, i, j} w[o, c, i, j] · x_pad[n, c, p·s + i·d, q·s + j·d]; and its adjoint."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    Og = O // groups
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((N, O, Ho, Wo))
    rows = np.arange(kh)[:, None] * dh
    cols = np.arange(kw)[None, :] * dw
    for o in range(O):
        c0 = (o // Og) * Cg
        for p in range(Ho):
            for q in range(Wo):
                patch = xp[:, c0:c0 + Cg, p * sh + rows, q * sw + cols]  # (N, Cg, kh, kw)
                y[:, o, p, q] = (patch * w[o]).sum(axis=(1, 2, 3)) + (0 if b is None else b[o])
    return y, (xp, Ho, Wo, rows, cols, Og, Cg)


def direct_conv_backward(g, x, w, stride, padding, dilation, groups):
    (sh, sw), (ph, pw) = stride, padding
    N, C, H, W = x.shape
    O = w.shape[0]
    _, (xp, Ho, Wo, rows, cols, Og, Cg) = direct_conv(x, w, None, stride, padding, dilation, groups)
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    for o in range(O):
        c0 = (o // Og) * Cg
        for p in range(Ho):
            for q in range(Wo):
                r, c = p * sh + rows, q * sw + cols
                gw[o] += np.einsum("n,ncij->cij", g[:, o, p, q], xp[:, c0:c0 + Cg, r, c])
                np.add.at(gxp, (slice(None), slice(c0, c0 + Cg), r, c), g[:, o, p, q][:, None, None, None] * w[o])
    return gxp[:, :, ph:ph + H, pw:pw + W], gw, g.sum(axis=(0, 2, 3))


CONV_CASES = {  # x shape, weight shape, stride, padding, dilation, groups
    "stride=(2,1)-padding=(0,2)-dilation=(1,1)-groups=1-kernel=(3,2)": ((2, 3, 9, 7), (4, 3, 3, 2), (2, 1), (0, 2), (1, 1), 1),
    "stride=(1,2)-padding=(1,0)-dilation=(2,1)-groups=2-kernel=(2,3)": ((2, 4, 8, 9), (6, 2, 2, 3), (1, 2), (1, 0), (2, 1), 2),
    "stride=(3,1)-padding=(2,1)-dilation=(1,3)-groups=4-kernel=(3,3)": ((1, 4, 10, 11), (8, 1, 3, 3), (3, 1), (2, 1), (1, 3), 4),
    "stride=(2,2)-padding=(1,1)-dilation=(2,2)-groups=1-kernel=(1,1)": ((2, 3, 6, 5), (2, 3, 1, 1), (2, 2), (1, 1), (2, 2), 1),
}


def conv_case(case, seed=0):
    xs, ws, stride, padding, dilation, groups = CONV_CASES[case]
    rng = np.random.default_rng(seed)
    return rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0]), stride, padding, dilation, groups


@pytest.mark.parametrize("impl", list(CONV), ids=lambda i: f"impl={i}")
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv2d_forward(case, impl):
    x, w, b, *args = conv_case(case)
    expected, _ = direct_conv(x, w, b, *args)
    np.testing.assert_allclose(CONV[impl][0](x, w, b, *args), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("impl", list(CONV), ids=lambda i: f"impl={i}")
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv2d_backward(case, impl):
    x, w, b, *args = conv_case(case)
    y, _ = direct_conv(x, w, b, *args)
    g = np.random.default_rng(1).normal(size=y.shape)
    got = CONV[impl][1](g, x, w, *args)
    for name, a, e in zip(("grad_input", "grad_weight", "grad_bias"), got, direct_conv_backward(g, x, w, *args)):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10, err_msg=name)


def bn_input(seed=0, shape=(4, 3, 2, 5)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape) * 2 + 1, rng.normal(size=shape[1]), rng.normal(size=shape[1])


@pytest.mark.parametrize("impl", list(BN), ids=lambda i: f"impl={i}")
@pytest.mark.parametrize("momentum", [0.1, 0.5], ids=lambda m: f"momentum={m}")
def test_batch_norm_running_statistics(impl, momentum):
    """Two training steps: running_mean and running_var (unbiased, M/(M−1)) move by the momentum factor."""
    forward = BN[impl][0]
    rmean, rvar = np.zeros(3), np.ones(3)
    emean, evar = rmean.copy(), rvar.copy()
    for seed in (0, 1):
        x, w, b = bn_input(seed)
        y, _, _ = forward(x, w, b, rmean, rvar, True, momentum, 1e-5)
        M = x.size // 3
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        emean = (1 - momentum) * emean + momentum * mean
        evar = (1 - momentum) * evar + momentum * var * M / (M - 1)
        expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) * w[:, None, None] + b[:, None, None]
        np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(rmean, emean, rtol=1e-12)
    np.testing.assert_allclose(rvar, evar, rtol=1e-12)


@pytest.mark.parametrize("impl", list(BN), ids=lambda i: f"impl={i}")
def test_batch_norm_eval_uses_running_statistics(impl):
    forward = BN[impl][0]
    x, w, b = bn_input(2)
    rmean, rvar = np.array([0.5, -1.0, 2.0]), np.array([0.5, 2.0, 4.0])
    before = rmean.copy(), rvar.copy()
    y, _, _ = forward(x, w, b, rmean, rvar, False, 0.1, 1e-5)
    expected = (x - rmean[:, None, None]) / np.sqrt(rvar[:, None, None] + 1e-5) * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(rmean, before[0])
    np.testing.assert_array_equal(rvar, before[1])


@pytest.mark.parametrize("impl", list(BN), ids=lambda i: f"impl={i}")
@pytest.mark.parametrize("training", [True, False], ids=["training=True", "training=False"])
def test_batch_norm_backward(impl, training):
    forward, backward = BN[impl]
    x, w, b = bn_input(3)
    rmean, rvar = np.array([0.5, -1.0, 2.0]), np.array([0.5, 2.0, 4.0])
    _, mean, invstd = forward(x, w, b, rmean.copy(), rvar.copy(), training, 0.1, 1e-5)
    g = np.random.default_rng(4).normal(size=x.shape)
    m = (x.mean(axis=(0, 2, 3)) if training else rmean)[:, None, None]
    s = (1 / np.sqrt((x.var(axis=(0, 2, 3)) if training else rvar) + 1e-5))[:, None, None]
    xhat = (x - m) * s
    M = x.size // 3
    if training:
        dx = w[:, None, None] * s / M * (M * g - g.sum(axis=(0, 2, 3))[:, None, None]
                                         - xhat * (g * xhat).sum(axis=(0, 2, 3))[:, None, None])
    else:
        dx = w[:, None, None] * s * g
    got = backward(g, x, w, mean, invstd, training)
    for name, a, e in zip(("grad_input", "grad_weight", "grad_bias"), got,
                          (dx, (g * xhat).sum(axis=(0, 2, 3)), g.sum(axis=(0, 2, 3)))):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-10, err_msg=name)
