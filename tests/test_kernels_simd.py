"""simd.py: every vector operation against numpy, in float32 and float64, inside a numba kernel; and
the SIMD kernels' tests again with the other vector widths (a CPU without AVX-512 gets 8 or 4 lanes)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from minitune.kernels.simd import (LANES, veven, vfma, vload, vload_first, vodd, vsplat, vstore, vstore_first, vsum,
                                   vzero, vzip_high, vzip_low)

DTYPES = [np.float32, np.float64]


@njit
def _arithmetic(a, out):
    """Rows of out: a₀ ⊙ a₁ + a₂ (fused), a₀ + a₁, a₀ − a₁, −a₀, splat(a₀[3]), zeros; returns Σ a₀."""
    u, v, w = vload(a, 0, 0), vload(a, 1, 0), vload(a, 2, 0)
    vstore(out, 0, 0, vfma(u, v, w))
    vstore(out, 1, 0, u + v)
    vstore(out, 2, 0, u - v)
    vstore(out, 3, 0, -u)
    vstore(out, 4, 0, vsplat(a[0, 3]))
    vstore(out, 5, 0, vzero(a))
    return vsum(u)


@pytest.mark.parametrize("dtype", DTYPES)
def test_arithmetic_is_lane_by_lane(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, LANES)).astype(dtype)
    out = np.full((6, LANES), np.nan, dtype)
    total = _arithmetic(a, out)
    if dtype == np.float32:  # fused: the product exact (in float64), one rounding of the sum
        wide = a.astype(np.float64)
        np.testing.assert_array_equal(out[0], (wide[0] * wide[1] + wide[2]).astype(np.float32))
    np.testing.assert_allclose(out[0], a[0] * a[1] + a[2], rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_array_equal(out[1], a[0] + a[1])
    np.testing.assert_array_equal(out[2], a[0] - a[1])
    np.testing.assert_array_equal(out[3], -a[0])
    np.testing.assert_array_equal(out[4], np.full(LANES, a[0, 3]))
    np.testing.assert_array_equal(out[5], np.zeros(LANES))
    assert total == pytest.approx(a[0].astype(np.float64).sum(), rel=1e-6)


@njit
def _masked(a, out, j, n):
    vstore_first(out, 0, j, vload_first(a, 0, j, n) + vsplat(a[0, 0]), n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", sorted({1, LANES // 2 + 1, LANES - 1, LANES}))
def test_masked_load_and_store_touch_only_the_first_lanes(dtype, n):
    a = np.arange(1, 3 * LANES + 1, dtype=dtype).reshape(1, -1)
    out = np.full((1, 3 * LANES), np.nan, dtype)
    _masked(a, out, 3, n)
    want = np.full(3 * LANES, np.nan, dtype)
    want[3:3 + n] = a[0, 3:3 + n] + a[0, 0]
    np.testing.assert_array_equal(out[0], want)


@njit
def _shuffles(a, out):
    u, v = vload(a, 0, 0), vload(a, 0, LANES)
    e, o = veven(u, v), vodd(u, v)
    vstore(out, 0, 0, e)
    vstore(out, 0, LANES, o)
    vstore(out, 1, 0, vzip_low(e, o))
    vstore(out, 1, LANES, vzip_high(e, o))


@pytest.mark.parametrize("dtype", DTYPES)
def test_deinterleave_and_interleave_are_inverse(dtype):
    a = np.random.default_rng(1).standard_normal((1, 2 * LANES)).astype(dtype)
    out = np.empty((2, 2 * LANES), dtype)
    _shuffles(a, out)
    np.testing.assert_array_equal(out[0], np.concatenate([a[0, 0::2], a[0, 1::2]]))
    np.testing.assert_array_equal(out[1], a[0])


# The tests of every kernel written on these vectors: the transforms, the direct convolution, max pooling.
SIMD_KERNEL_TESTS = ["tests/test_kernels_simd.py", "tests/test_kernels_direct_conv.py",
                     "tests/test_kernels_conv2d.py::test_winograd_twin_and_kernels_match_the_convolution",
                     "tests/test_kernels_conv2d.py::test_winograd_transforms_write_only_their_tiles",
                     "tests/test_kernels_pooling.py::test_max_pool_wide_rows_nan_and_minus_inf_match_twin"]


@pytest.mark.parametrize("lanes", [n for n in (4, 8, 16) if n != LANES])
def test_kernels_with_other_vector_widths(lanes, tmp_path):
    """``MINITUNE_SIMD_LANES`` forces the width, in a fresh process with its own numba cache (the compiled
    kernels depend on it): every tail, mask and shuffle is then exercised at that width too."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, MINITUNE_SIMD_LANES=str(lanes), NUMBA_CACHE_DIR=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-k",
                          "not other_vector_widths and not float32_error", *SIMD_KERNEL_TESTS],
                         cwd=root, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
