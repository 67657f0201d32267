"""fma kernel: the one-pass numba kernel gives the numpy twin's bits, in every placement of ``out``."""
import numpy as np
import pytest

from minitune.kernels import fma as K


def _operands(seed, n=10007):
    rng = np.random.default_rng(seed)
    # wide exponents, so that x·y + z often rounds differently fused and unfused
    x, y, z = (rng.standard_normal(n) * 10.0 ** rng.integers(-4, 4, n) for _ in range(3))
    return x.astype(np.float32), y.astype(np.float32), z.astype(np.float32)


def test_the_operands_tell_fused_from_unfused():
    """The test below can fail: on these operands one rounding and two differ in many elements."""
    x, y, z = _operands(0)
    unfused = x * y + z  # float32 product rounded, then the sum
    assert np.count_nonzero(K.fma_reference(x, y, z) != unfused) > 100


@pytest.mark.parametrize("scalar", [False, True], ids=["array_y", "scalar_y"])
@pytest.mark.parametrize("placement", ["fresh", "out", "into_z", "into_x", "into_y"])
def test_kernel_matches_the_twin_bit_for_bit(threads, scalar, placement):
    x, y, z = _operands(1)
    if scalar:
        y = -0.0123456789  # a Python float: rounded to float32 first, as the twin does
    want = K.fma_reference(x, y, z)
    if placement == "fresh":
        got = K.fma(x, y, z)
    elif placement == "out":
        got = K.fma(x, y, z, out=np.empty_like(x))
    elif placement == "into_z":
        got = K.fma(x, y, z, out=z)
        assert got is z
    elif placement == "into_x":
        got = K.fma(x, y, z, out=x)
        assert got is x
    else:
        if scalar:
            pytest.skip("y is a scalar")
        got = K.fma(x, y, z, out=y)
    np.testing.assert_array_equal(got, want)


def test_shapes_dtypes_and_layouts_that_take_the_twin():
    x, y, z = (a.reshape(10007, 1) for a in _operands(2))
    np.testing.assert_array_equal(K.fma(x[::2], y[::2], z[::2]), K.fma_reference(x[::2], y[::2], z[::2]))
    x64, z64 = x.astype(np.float64), z.astype(np.float64)
    np.testing.assert_array_equal(K.fma(x64, 3.0, z64), x64 * 3.0 + z64)
    np.testing.assert_array_equal(K.fma(x, y[:1], z), K.fma_reference(x, y[:1], z))  # broadcast y
