"""The multi-threaded add (kernels/elementwise.py) and how autograd gets it (autograd/array_functions.py)."""
import numpy as np
import pytest

import minitune
import minitune.nn.functional  # noqa: F401 - installs the kernels' add
from minitune.autograd import array_functions
from minitune.kernels import elementwise as E

pytestmark = pytest.mark.kernels


@pytest.mark.filterwarnings("ignore:invalid value encountered in add")  # inf + -inf
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_is_numpys_add_bit_for_bit_in_every_form(dtype, threads):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((3, 5, 7)).astype(dtype) for _ in range(2))
    a[0, 0, :3] = [np.nan, np.inf, -0.0]
    b[0, 0, :3] = [1.0, -np.inf, 0.0]
    want = np.add(a, b)
    np.testing.assert_array_equal(E.add(a, b), want)
    assert np.signbit(E.add(a, b)[0, 0, 2]) == np.signbit(want[0, 0, 2])
    for out in ("a", "b", "new"):  # in place into either operand, or into a third array
        x, y = a.copy(), b.copy()
        o = {"a": x, "b": y, "new": np.full_like(a, 7)}[out]
        assert E.add(x, y, out=o) is o
        np.testing.assert_array_equal(o, want)
    flat = a.copy().reshape(-1)  # out overlapping an operand one element along: numpy's answer
    expected = np.add(flat[1:], b.reshape(-1)[:-1], out=flat.copy()[:-1])
    np.testing.assert_array_equal(E.add(flat[1:], b.reshape(-1)[:-1], out=flat[:-1]), expected)
    np.testing.assert_array_equal(E.add(a, b[0]), a + b[0])  # broadcasting: numpy's own
    np.testing.assert_array_equal(E.add(a, 2.5), a + 2.5)
    ints = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(E.add(ints, ints), 2 * ints)
    np.testing.assert_array_equal(E.add(a[:, ::2], b[:, ::2]), a[:, ::2] + b[:, ::2])  # not contiguous


def test_autograd_add_and_gradient_sums_use_the_installed_add(monkeypatch):
    calls = []

    def counting_add(a, b, out=None):
        calls.append(out is not None)
        return np.add(a, b, out=out)

    monkeypatch.setattr(array_functions, "add", counting_add)
    x = minitune.tensor(np.arange(4.0), requires_grad=True)
    u = x * 2
    (u + u * 3).sum().backward()  # one Add forward; two gradients for u summed
    assert len(calls) == 2
    np.testing.assert_array_equal(x.grad.data, np.full(4, 8.0))


def test_install_refuses_an_unknown_name_and_uninstall_restores_numpy(monkeypatch):
    monkeypatch.setattr(array_functions, "add", array_functions.add)
    with pytest.raises(ValueError, match="no array function named 'mul'"):
        array_functions.install(mul=np.multiply)
    array_functions.uninstall()
    assert array_functions.add is np.add
    array_functions.install(add=E.add)
    assert array_functions.add is E.add
