"""direct_conv.py: the numpy twin and the kernel against the conv2d definition (float64), on both
strides, padding per axis, odd output heights, rows that end mid-vector, on 1 and 3 threads; when
conv2d uses it.  The fast paths' table tests (every conv2d case,
forward and backward) run it too: see ``conv_path`` in conftest.py."""
import numpy as np
import pytest

from minitune.kernels import conv2d as K
from minitune.kernels import direct_conv as D

pytestmark = pytest.mark.kernels

# (N, C, H, W, O, kh, kw, stride, (ph, pw))
SHAPES = [
    (2, 3, 30, 37, 8, 7, 7, 2, (3, 3)),   # a stem; Wo = 19: one vector and a partial one
    (1, 2, 9, 40, 16, 3, 3, 1, (1, 1)),   # stride 1, odd Ho
    (3, 4, 12, 70, 8, 3, 5, 2, (0, 2)),   # rectangular kernel, padding only along the width
    (1, 3, 8, 33, 24, 1, 1, 2, (0, 0)),   # 1×1, three channel blocks
    (2, 1, 5, 64, 8, 2, 2, 1, (1, 0)),
    (1, 5, 11, 40, 16, 1, 1, 1, (0, 0)),  # K = 5 terms: 2 left over by the 3-term tiles, 1 by the 4-term ones
]


@pytest.fixture(params=[32, 16], ids=["32-registers", "16-registers"])
def registers(request, monkeypatch):
    """Both register tiles on any CPU: 8 channels × 2 rows (AVX-512's 32 vector registers) and
    4 channels × 3 rows (AVX2's 16)."""
    monkeypatch.setattr(D, "REGISTERS", request.param)
    return request.param


@pytest.mark.parametrize("shape", SHAPES)
def test_twin_and_kernel_match_the_convolution(shape, threads, registers):
    N, C, H, W, O, kh, kw, s, p = shape
    rng = np.random.default_rng(sum(shape[:7]))
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((O, C, kh, kw)), rng.standard_normal(O)
    want = K.conv2d_forward_reference(x, w, b, (s, s), p, (1, 1), 1)
    np.testing.assert_allclose(D.direct_conv2d_reference(x, w, b, (s, s), p), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.direct_conv2d(x, w, b, (s, s), p), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.direct_conv2d(x, w, None, (s, s), p), want - b[:, None, None], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_grad_weight_twin_and_kernel_match_the_convolution(shape, threads, registers):
    """grad_w = Σ_n g[n] ⋆ x[n] by the direct kernel: the tiles of 4 (3) terms and the K mod 4 (3) left over,
    bands of output rows, the parts' sums added."""
    N, C, H, W, O, kh, kw, s, p = shape
    rng = np.random.default_rng(sum(shape[:7]) + 1)
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((O, C, kh, kw))
    Ho, Wo = K.conv2d_output_size(H, W, (kh, kw), (s, s), p, (1, 1))
    g = rng.standard_normal((N, O, Ho, Wo))
    want = K.conv2d_backward_reference(g, x, w, (s, s), p, (1, 1), 1)[1]
    twin = D.direct_conv2d_grad_weight_reference(g, x, w.shape, (s, s), p)
    np.testing.assert_allclose(twin, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.direct_conv2d_grad_weight(g, x, w.shape, (s, s), p), want, rtol=1e-12, atol=1e-12)


def test_float32_error_against_float64(registers):
    """The stem in float32: within a few float32 roundings of the float64 result (each output sums
    147 products in order, with fused multiply-adds), as close as im2col + BLAS gets."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 64, 64)), rng.standard_normal((64, 3, 7, 7)) * 0.1
    exact = K.conv2d_forward_reference(x, w, None, (2, 2), (3, 3), (1, 1), 1)
    got = D.direct_conv2d(x.astype(np.float32), w.astype(np.float32), None, (2, 2), (3, 3))
    err = np.abs(got - exact).max() / np.abs(exact).max()
    im2col = K._conv2d_forward_per_sample(x.astype(np.float32), w.astype(np.float32), None, (2, 2), (3, 3), (1, 1))
    assert err < 1e-6 and err < 4 * np.abs(im2col - exact).max() / np.abs(exact).max() + 1e-7, err


@pytest.mark.parametrize("x_shape,O,kernel,stride,dilation,groups,expected", [
    ((8, 3, 224, 224), 64, (7, 7), (2, 2), (1, 1), 1, True),     # ResNet's stem
    ((8, 3, 224, 224), 60, (7, 7), (2, 2), (1, 1), 1, False),    # output channels not a multiple of 8
    ((8, 64, 56, 56), 128, (3, 3), (2, 2), (1, 1), 1, False),    # K = 576 > MAX_TERMS
    ((8, 3, 40, 40), 64, (7, 7), (2, 2), (1, 1), 1, False),      # output rows of 20 < MIN_WIDTH
    ((8, 3, 224, 224), 64, (7, 7), (3, 3), (1, 1), 1, False),    # stride 3
    ((8, 3, 224, 224), 64, (7, 7), (2, 1), (1, 1), 1, False),    # strides differ
    ((8, 3, 224, 224), 64, (3, 3), (1, 1), (2, 2), 1, False),    # dilation
    ((8, 4, 224, 224), 64, (3, 3), (1, 1), (1, 1), 2, False),    # groups
    ((1, 3, 224, 224), 64, (7, 7), (2, 2), (1, 1), 1, False),    # one image (minitune predict)
])
def test_where_the_direct_kernel_applies(x_shape, O, kernel, stride, dilation, groups, expected):
    assert D.direct_applies(x_shape, O, kernel, stride, (3, 3), dilation, groups) == expected


def test_conv2d_uses_it_for_a_stem(monkeypatch):
    calls = []
    for name in ("direct_conv2d", "direct_conv2d_grad_weight"):
        real = getattr(D, name)
        monkeypatch.setattr(K, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 70, 70)).astype(np.float32), rng.standard_normal((8, 3, 7, 7)).astype(np.float32)
    args = ((2, 2), (3, 3), (1, 1), 1)
    y = K.conv2d_forward(x, w, None, *args)
    g = rng.standard_normal(y.shape).astype(np.float32)
    grad_input, grad_weight, _ = K.conv2d_backward(g, x, w, *args, need=(True, True, False))
    assert calls == ["direct_conv2d", "direct_conv2d_grad_weight"]
    want = K.conv2d_backward_reference(g, x, w, *args)
    np.testing.assert_allclose(y, K.conv2d_forward_reference(x, w, None, *args), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grad_weight, want[1], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(grad_input, want[0], rtol=1e-4, atol=1e-4)  # the im2col path
