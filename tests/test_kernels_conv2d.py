"""conv2d kernels: every fast path (Winograd, per sample, whole batch) against the numpy twin,
element by element with a random upstream gradient; Winograd's error against float64;
im2col's adjoint; the MINITUNE_NO_JIT switch; no result aliasing the workspace."""
import os
import subprocess
import sys

import numpy as np
import pytest
from conv_cases import CASES, pair, seed

from minitune.kernels import conv2d as K
from minitune.kernels import im2col as I
from minitune.kernels import winograd as Wg
from minitune.kernels import workspace

pytestmark = pytest.mark.kernels


def _random_case(name, dtype):
    """x, w, b, (stride, padding, dilation, groups) and a random upstream gradient g, seeded by the name."""
    N, C, H, W, O, k, s, p, d, groups, bias, _ = CASES[name]
    s, p, d = pair(s), pair(p), pair(d)
    rng = np.random.default_rng(seed(name))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((O, C // groups) + k).astype(dtype)
    b = rng.standard_normal(O).astype(dtype) if bias else None
    Ho, Wo = K.conv2d_output_size(H, W, k, s, p, d)
    g = rng.standard_normal((N, O, Ho, Wo)).astype(dtype)
    return x, w, b, (s, p, d, groups), g


def _close(got, want, tol, what):
    """Every element: |got − want| ≤ tol·(|want| + max|want|)."""
    assert got.dtype == want.dtype and got.shape == want.shape, what
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max(), err_msg=what)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("name", CASES)
def test_fast_matches_twin(name, dtype, tol, conv_path, threads):
    x, w, b, args, g = _random_case(name, dtype)
    _close(K._conv2d_forward_fast(x, w, b, *args), K.conv2d_forward_reference(x, w, b, *args), tol, "forward")
    fast = K._conv2d_backward_fast(g, x, w, *args)
    twin = K.conv2d_backward_reference(g, x, w, *args)
    for what, got, want in zip(("grad_input", "grad_weight", "grad_bias"), fast, twin):
        if b is None and what == "grad_bias":
            continue
        _close(got, want, tol, f"{what}: fast vs twin")


@pytest.mark.parametrize("need", [(True, False, False), (False, True, False), (False, False, True)])
def test_backward_computes_only_what_is_needed(need, conv_path, threads):
    x, w, b, args, g = _random_case("pad2_3x3", np.float64)
    got = K._conv2d_backward_fast(g, x, w, *args, need=need)
    want = K.conv2d_backward_reference(g, x, w, *args)
    for wanted, a, r in zip(need, got, want):
        assert (a is None) != wanted
        if wanted:
            _close(a, r, 1e-12, "gradient")


@pytest.mark.parametrize("name", ["basic3x3", "stride2_groups2", "stride3_pad3_dil2", "stem7x7"])
def test_backward_reuses_forward_columns(name):
    x, w, b, args, g = _random_case(name, np.float64)
    y, col = K._conv2d_forward_fast(x, w, b, *args, return_columns=True)
    with_col = K._conv2d_backward_fast(g, x, w, *args, col=col)
    without = K._conv2d_backward_fast(g, x, w, *args)
    for a, r in zip(with_col, without):
        np.testing.assert_allclose(a, r, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_backward_reuses_forward_weight_transform(dtype, conv_path, threads):
    """``keep_weight_transform``: a Winograd forward returns its U = G w Gᵀ (a fresh array, not the
    workspace, unchanged by later convolutions) and the backward given it returns the same bits as one
    that computes U itself; on the other paths U is None."""
    x, w, b, args, g = _random_case("pad2_3x3", dtype)
    y, U = K.conv2d_forward(x, w, b, *args, keep_weight_transform=True)
    np.testing.assert_array_equal(y, K.conv2d_forward(x, w, b, *args))
    if not K._use_winograd(x.shape, w.shape[2:], *args):
        assert U is None
        return
    assert not any(np.shares_memory(U, buf) for buf in workspace.workspace_arrays())
    np.testing.assert_array_equal(U, Wg.weight_transform(w)[1])
    K.conv2d_forward(*_random_case("basic3x3", dtype)[:3], *args)  # another convolution reuses the workspace
    for a, r in zip(K.conv2d_backward(g, x, w, *args, U=U), K.conv2d_backward(g, x, w, *args)):
        np.testing.assert_array_equal(a, r)
    # the U passed is the one used: grad_input is linear in U (×2 is exact), grad_weight does not read it
    doubled = K.conv2d_backward(g, x, w, *args, U=2 * U)
    np.testing.assert_array_equal(doubled[0], 2 * K.conv2d_backward(g, x, w, *args)[0])


def test_weight_transform_kept_only_where_the_backward_uses_it():
    """ResNet-18's layer4 at batch 16 runs a Winograd forward but an im2col backward: no U kept."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((16, 8, 7, 7)).astype(np.float32), rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    args = ((1, 1), (1, 1), (1, 1), 1)
    assert K._use_winograd(x.shape, (3, 3), *args, forward=True) and not K._use_winograd(x.shape, (3, 3), *args)
    assert K.conv2d_forward(x, w, None, *args, keep_weight_transform=True)[1] is None


# ---------------------------------------------------------------- Winograd F(2×2, 3×3)

def test_winograd_matrices_compute_the_1d_correlation():
    """y = Aᵀ[(G g) ⊙ (Bᵀ d)] is the 3-tap correlation of 4 inputs, exactly (for integers)."""
    rng = np.random.default_rng(0)
    d, g = rng.integers(-9, 9, 4).astype(float), rng.integers(-9, 9, 3).astype(float)
    y = Wg.A_T @ ((Wg.G @ g) * (Wg.B_T @ d))
    np.testing.assert_array_equal(y, [d[0:3] @ g, d[1:4] @ g])


# (N, C, H, W, O, padding); the wide ones give tile rows longer than one SIMD vector (simd.LANES ≤ 16
# tiles): 34 columns and padding 0 are 16 tiles, 37 with padding 1 are 19, 33 with padding 3 are 19.
@pytest.mark.parametrize("shape", [(2, 3, 7, 6, 4, 1), (1, 2, 5, 5, 3, 0), (3, 4, 8, 9, 5, 2), (2, 3, 6, 6, 2, 1),
                                   (1, 2, 4, 34, 3, 0), (2, 2, 5, 37, 3, 1), (1, 3, 6, 33, 2, 3), (1, 1, 35, 3, 2, 1)])
def test_winograd_twin_and_kernels_match_the_convolution(shape):
    N, C, H, W, O, p = shape
    rng = np.random.default_rng(sum(shape))
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((O, C, 3, 3)), rng.standard_normal(O)
    args = ((1, 1), (p, p), (1, 1), 1)
    want = K.conv2d_forward_reference(x, w, b, *args)
    _close(Wg.winograd_conv2d_reference(x, w, b, (p, p)), want, 1e-13, "twin")
    _close(Wg.winograd_conv2d_forward(x, w, b, (p, p)), want, 1e-13, "numba forward")
    g = rng.standard_normal(want.shape)
    gx, gw, _ = K.conv2d_backward_reference(g, x, w, *args)
    fx, fw = Wg.winograd_conv2d_backward(g, x, w, (p, p))
    _close(fx, gx, 1e-13, "grad_input")
    _close(fw, gw, 1e-13, "grad_weight")


@pytest.mark.parametrize("chunk_tiles", [4, 7, 30])
def test_winograd_in_bands_of_tile_rows(monkeypatch, chunk_tiles):
    """A sample with more tiles than CHUNK_TILES is cut into bands of tile rows (one row when a row
    alone is longer): the forward and both gradients are those of the whole sample at once."""
    rng = np.random.default_rng(chunk_tiles)
    x, w, b = rng.standard_normal((2, 3, 11, 13)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    args = ((1, 1), (1, 1), (1, 1), 1)
    want = K.conv2d_forward_reference(x, w, b, *args)
    g = rng.standard_normal(want.shape)
    gx, gw, _ = K.conv2d_backward_reference(g, x, w, *args)
    monkeypatch.setattr(Wg, "CHUNK_TILES", chunk_tiles)
    assert len(Wg._chunks(2, 6, 7)) > 2
    _close(Wg.winograd_conv2d_forward(x, w, b, (1, 1)), want, 1e-13, "numba forward in bands")
    fx, fw = Wg.winograd_conv2d_backward(g, x, w, (1, 1))
    _close(fx, gx, 1e-13, "grad_input in bands")
    _close(fw, gw, 1e-13, "grad_weight in bands")


@pytest.mark.parametrize("W,p", [(34, 0), (37, 1), (33, 3), (6, 1)])
def test_winograd_transforms_write_only_their_tiles(W, p):
    """The transforms write their planes with vectors, masking the tail of each tile row: a plane's
    slack past its C·T numbers, and the rest of a wider output, keep what was there (NaN here)."""
    from minitune.kernels import winograd_transforms as WT
    rng = np.random.default_rng(W)
    N, C, H, O = 2, 3, 5, 2
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    Ho, Wo, th, tw = Wg._tile_grid(H, W, (p, p))
    T = N * th * tw
    V = np.full((16, C * T + 40), np.nan, np.float32)
    WT._input_transform(x, V, p, p, 0, th, tw)
    assert np.isfinite(V[:, :C * T]).all() and np.isnan(V[:, C * T:]).all()
    g = rng.standard_normal((N, O, Ho, Wo)).astype(np.float32)
    Z = np.full((16, O * T + 40), np.nan, np.float32)
    WT._output_transform_adjoint(g, Z, 0, th, tw)
    assert np.isfinite(Z[:, :O * T]).all() and np.isnan(Z[:, O * T:]).all()
    y = np.full((N + 1, O, Ho, Wo), np.nan, np.float32)  # the transform writes samples 0 … N − 1
    WT._output_transform(Z, np.zeros(O, np.float32), y[:N], 0, th, tw)
    assert np.isfinite(y[:N]).all() and np.isnan(y[N]).all()
    gx = np.zeros((N + 1, C, H, W), np.float32)
    gx[N] = np.nan
    WT._input_transform_adjoint(V, gx[:N], p, p, 0, th, tw)
    assert np.isfinite(gx[:N]).all() and np.isnan(gx[N]).all()


@pytest.mark.parametrize("N,forward,expected", [(8, True, False), (8, False, False), (16, True, True),
                                                (16, False, False), (64, True, True)])
def test_winograd_for_layer4_forward_from_batch_16(N, forward, expected):
    """ResNet-18's layer4 (7×7 planes, 16 tiles a sample): Winograd forward from batch 16, backward never."""
    assert K._use_winograd((N, 512, 7, 7), (3, 3), (1, 1), (1, 1), (1, 1), 1, forward=forward) == expected
    assert K._use_winograd((N, 64, 56, 56), (3, 3), (1, 1), (1, 1), (1, 1), 1, forward=forward)  # layer1: both


def test_winograd_float32_error_against_float64():
    """On a ResNet-18 layer2-sized convolution, Winograd in float32 stays within a few float32
    rounding errors of the float64 result, like im2col + GEMM does (both measured, both bounded)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 128, 28, 28))
    w = rng.standard_normal((128, 128, 3, 3)) * np.sqrt(2 / (9 * 128))
    g = rng.standard_normal((2, 128, 28, 28))
    exact = Wg.winograd_conv2d_forward(x, w, None, (1, 1))
    exact_gx, exact_gw = Wg.winograd_conv2d_backward(g, x, w, (1, 1))
    x32, w32, g32 = x.astype(np.float32), w.astype(np.float32), g.astype(np.float32)
    errors = {}
    for label, got, want in (
            ("forward", Wg.winograd_conv2d_forward(x32, w32, None, (1, 1)), exact),
            ("im2col forward", K._conv2d_forward_per_sample(x32, w32, None, (1, 1), (1, 1), (1, 1)), exact),
            ("grad_input", Wg.winograd_conv2d_backward(g32, x32, w32, (1, 1))[0], exact_gx),
            ("grad_weight", Wg.winograd_conv2d_backward(g32, x32, w32, (1, 1))[1], exact_gw)):
        errors[label] = np.abs(got - want).max() / np.abs(want).max()
    assert errors["forward"] < 1e-6 and errors["grad_input"] < 1e-6 and errors["grad_weight"] < 1e-6, errors
    assert errors["forward"] < 4 * errors["im2col forward"], errors


# ---------------------------------------------------------------- im2col / col2im

# (H, W, kernel, stride, padding, dilation)
IM2COL_CASES = [
    (5, 7, (3, 3), (1, 1), (1, 1), (1, 1)),
    (6, 5, (2, 3), (2, 2), (0, 0), (1, 1)),
    (7, 7, (3, 3), (3, 3), (3, 3), (2, 2)),
    (4, 4, (7, 7), (1, 1), (3, 3), (1, 1)),
    (9, 8, (3, 2), (2, 1), (2, 0), (2, 2)),
]


@pytest.mark.parametrize("H,W,k,s,p,d", IM2COL_CASES)
def test_im2col_twin_and_adjoint(H, W, k, s, p, d):
    """im2col fast = twin, col2im fast = twin, and ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, H, W))
    Ho, Wo = K.conv2d_output_size(H, W, k, s, p, d)
    args = (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], Ho, Wo)
    col = I.im2col(x, *args)
    np.testing.assert_array_equal(col, I.im2col_reference(x, *args))
    c = rng.standard_normal(col.shape)
    back = I.col2im(c, 2, H, W, *args)
    np.testing.assert_allclose(back, I.col2im_reference(c, 2, H, W, *args), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.sum(col * c), np.sum(x * back), rtol=1e-12)


def test_im2col_and_col2im_write_only_into_contiguous_out():
    """The kernels write through flat views of ``out``: a strided ``out`` is refused, not written into a copy."""
    x = np.ones((1, 2, 4, 4))
    args = (3, 3, 1, 1, 1, 1, 1, 1, 4, 4)
    with pytest.raises(ValueError, match="out must be C-contiguous"):
        I.im2col(x, *args, out=np.empty((18, 32))[:, ::2])
    with pytest.raises(ValueError, match="out must be C-contiguous"):
        I.col2im(np.ones((18, 16)), 1, 4, 4, *args, out=np.empty((1, 2, 4, 8))[..., ::2])


def test_an_inlined_kernel_helper_cannot_reassociate():
    """jit.njit(inline=True) pastes a helper into its callers, whose fastmath flags it then takes."""
    from minitune.kernels.jit import njit
    with pytest.raises(ValueError, match="reassociate"):
        njit(inline=True, reassociate=True)


def test_output_size_formula_and_error():
    assert K.conv2d_output_size(224, 224, (7, 7), (2, 2), (3, 3), (1, 1)) == (112, 112)
    assert K.conv2d_output_size(9, 11, (3, 3), (3, 3), (3, 3), (2, 2)) == (4, 5)
    with pytest.raises(ValueError, match="larger than the padded input"):
        K.conv2d_output_size(3, 3, (5, 5), (1, 1), (0, 0), (1, 1))


def test_public_kernels_are_documented_functions():
    from minitune.kernels import batch_norm as B

    for module, name in ((K, "conv2d_forward"), (K, "conv2d_backward"), (I, "im2col"), (I, "col2im"),
                         (B, "batch_norm_forward"), (B, "batch_norm_backward")):
        fn = getattr(module, name)
        assert fn.__name__ == name and fn.__doc__ and "MINITUNE_NO_JIT" in fn.__doc__, name


def test_no_jit_switch_uses_twins():
    """With MINITUNE_NO_JIT=1 the public kernels run the numpy twins (the fast paths are never
    called) and give the same numbers as the fast paths."""
    code = (
        "import numpy as np\n"
        "from minitune.kernels import conv2d as K, im2col as I, batch_norm as B, jit\n"
        "assert jit.NO_JIT\n"
        "def fail(*a, **k): raise AssertionError('fast path called')\n"
        "K._conv2d_forward_fast = K._conv2d_backward_fast = I._im2col_numba = I._col2im_numba = fail\n"
        "B._batch_norm_forward_fast = B._batch_norm_backward_fast = fail\n"
        "rng = np.random.default_rng(0)\n"
        "x, w, g = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 5, 5))\n"
        "args = ((1, 1), (1, 1), (1, 1), 1)\n"
        "out = [K.conv2d_forward(x, w, None, *args), *K.conv2d_backward(g, x, w, *args)]\n"
        "out.append(I.im2col(x, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5))\n"
        "out.append(B.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-5)[0])\n"
        "np.savez(__import__('sys').argv[1], *out)\n"
    )
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"no_jit_{os.getpid()}.npz")
    env = dict(os.environ, MINITUNE_NO_JIT="1")
    subprocess.run([sys.executable, "-c", code, path], env=env, check=True)
    with np.load(path) as f:
        twins = [f[f"arr_{i}"] for i in range(6)]
    os.remove(path)
    rng = np.random.default_rng(0)
    x, w, g = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 5, 5))
    args = ((1, 1), (1, 1), (1, 1), 1)
    from minitune.kernels import batch_norm as B
    fast = [K.conv2d_forward(x, w, None, *args), *K.conv2d_backward(g, x, w, *args),
            I.im2col(x, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5), B.batch_norm_forward(x, None, None, None, None, True, 0.1, 1e-5)[0]]
    for a, r in zip(fast, twins):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["basic3x3", "per_sample3x3", "pointwise", "per_sample_pointwise_stride2"])
def test_results_do_not_alias_the_workspace(name, conv_path):
    """Outputs and gradients stay valid after later convolutions reuse the workspace."""
    x, w, b, args, g = _random_case(name, np.float64)
    y = K._conv2d_forward_fast(x, w, b, *args)
    grads = [a for a in K._conv2d_backward_fast(g, x, w, *args) if a is not None]
    kept = [y.copy()] + [a.copy() for a in grads]
    other = np.random.default_rng(4).standard_normal((2, 6, 9, 9))
    K._conv2d_backward_fast(np.ones((2, 4, 9, 9)), other, np.ones((4, 6, 3, 3)), (1, 1), (1, 1), (1, 1), 1)
    for before, after in zip(kept, [y, *grads]):
        np.testing.assert_array_equal(before, after)
    assert not any(np.shares_memory(a, buf) for a in (y, *grads) for buf in workspace.workspace_arrays())
