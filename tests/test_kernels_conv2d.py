"""conv2d kernels: the numba/BLAS path against its numpy twin, im2col's adjoint, MINITUNE_NO_JIT."""
import os
import subprocess
import sys

import numpy as np
import pytest

from minitune.kernels import conv2d as K
from minitune.kernels import im2col as I

pytestmark = pytest.mark.kernels

# (N, C, H, W, O, kernel, stride, padding, dilation, groups, bias)
CASES = [
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    (1, 4, 8, 9, 6, (3, 3), (2, 2), (1, 1), (1, 1), 2, False),
    (2, 4, 6, 7, 4, (3, 3), (1, 1), (1, 1), (1, 1), 4, True),
    (1, 3, 12, 10, 4, (7, 7), (2, 2), (3, 3), (1, 1), 1, False),
    (2, 4, 7, 7, 6, (1, 1), (2, 2), (0, 0), (1, 1), 1, True),
    (2, 4, 5, 5, 3, (1, 1), (1, 1), (0, 0), (1, 1), 1, False),
    (1, 2, 9, 11, 3, (3, 3), (3, 3), (3, 3), (2, 2), 1, True),
    (1, 3, 6, 9, 2, (2, 3), (2, 1), (0, 2), (1, 2), 1, True),
    (3, 2, 4, 4, 2, (1, 1), (1, 1), (1, 1), (1, 1), 2, False),  # 1×1 with padding: im2col path
    (2, 3, 17, 16, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),  # Ho·Wo ≥ PER_SAMPLE_MIN_L: one sample at a time
    (2, 4, 33, 34, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1, False),  # the same, 1×1 stride 2
]


def _random_case(case, dtype, seed=0):
    N, C, H, W, O, k, s, p, d, groups, bias = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((O, C // groups) + k).astype(dtype)
    b = rng.standard_normal(O).astype(dtype) if bias else None
    return x, w, b, (s, p, d, groups)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("case", CASES)
def test_fast_matches_twin(case, dtype, tol):
    x, w, b, args = _random_case(case, dtype)
    y = K._conv2d_forward_fast(x, w, b, *args)
    y_ref = K.conv2d_forward_reference(x, w, b, *args)
    assert y.dtype == dtype and y.shape == y_ref.shape
    np.testing.assert_allclose(y, y_ref, rtol=tol, atol=tol * 10, err_msg="forward: fast vs twin")
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    fast = K._conv2d_backward_fast(g, x, w, *args)
    twin = K.conv2d_backward_reference(g, x, w, *args)
    for name, a, r in zip(("grad_input", "grad_weight", "grad_bias"), fast, twin):
        assert a.dtype == dtype, name
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * 10 * np.abs(r).max(), err_msg=f"{name}: fast vs twin")


@pytest.mark.parametrize("case", CASES[:4])
def test_backward_reuses_forward_columns(case):
    x, w, b, args = _random_case(case, np.float64)
    y, col = K._conv2d_forward_fast(x, w, b, *args, return_columns=True)
    g = np.ones_like(y)
    with_col = K._conv2d_backward_fast(g, x, w, *args, col=col)
    without = K._conv2d_backward_fast(g, x, w, *args)
    for a, r in zip(with_col, without):
        np.testing.assert_array_equal(a, r)


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
    col = I._im2col_fast(x, *args)
    np.testing.assert_array_equal(col, I.im2col_reference(x, *args))
    c = rng.standard_normal(col.shape)
    back = I._col2im_fast(c, 2, H, W, *args)
    np.testing.assert_allclose(back, I.col2im_reference(c, 2, H, W, *args), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.sum(col * c), np.sum(x * back), rtol=1e-12)


def test_output_size_formula_and_error():
    assert K.conv2d_output_size(224, 224, (7, 7), (2, 2), (3, 3), (1, 1)) == (112, 112)
    assert K.conv2d_output_size(9, 11, (3, 3), (3, 3), (3, 3), (2, 2)) == (4, 5)
    with pytest.raises(ValueError, match="larger than the padded input"):
        K.conv2d_output_size(3, 3, (5, 5), (1, 1), (0, 0), (1, 1))


def test_no_jit_switch_uses_twins():
    """With MINITUNE_NO_JIT=1 the public kernels are the numpy twins and give the same numbers."""
    code = (
        "import numpy as np\n"
        "from minitune.kernels import conv2d as K, pooling as P, batch_norm as B, jit\n"
        "assert jit.NO_JIT\n"
        "assert K.conv2d_forward is K._conv2d_forward_twin\n"
        "assert B.batch_norm_forward is B.batch_norm_forward_reference\n"
        "x = np.arange(2 * 3 * 5 * 5, dtype=np.float64).reshape(2, 3, 5, 5) % 7\n"
        "w = np.ones((4, 3, 3, 3))\n"
        "print(float(K.conv2d_forward(x, w, None, (1, 1), (1, 1), (1, 1), 1).sum()))\n"
    )
    env = dict(os.environ, MINITUNE_NO_JIT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    x = np.arange(2 * 3 * 5 * 5, dtype=np.float64).reshape(2, 3, 5, 5) % 7
    fast = K._conv2d_forward_fast(x, np.ones((4, 3, 3, 3)), None, (1, 1), (1, 1), (1, 1), 1).sum()
    assert float(out.stdout) == pytest.approx(fast, rel=1e-12)


@pytest.mark.parametrize("case", [CASES[0], CASES[5], (1, 3, 5, 5, 2, (1, 1), (1, 1), (0, 0), (1, 1), 1, False)])
def test_results_do_not_alias_the_workspace(case):
    """Outputs and gradients stay valid after later convolutions reuse the im2col workspace."""
    x, w, b, args = _random_case(case, np.float64)
    y = K._conv2d_forward_fast(x, w, b, *args)
    g = np.random.default_rng(3).standard_normal(y.shape)
    grads = K._conv2d_backward_fast(g, x, w, *args)
    kept = [y.copy()] + [a.copy() for a in grads]
    other = np.random.default_rng(4).standard_normal((2, 6, 9, 9))
    K._conv2d_backward_fast(np.ones((2, 4, 9, 9)), other, np.ones((4, 6, 3, 3)), (1, 1), (1, 1), (1, 1), 1)
    for before, after in zip(kept, [y, *grads]):
        np.testing.assert_array_equal(before, after)
    workspace = K._workspace.float64
    assert not any(np.shares_memory(a, workspace) for a in (y, *grads))
