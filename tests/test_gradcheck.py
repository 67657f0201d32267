"""gradcheck itself: each of its four checks catches a wrong backward, kinks are flagged (for the
latest call only), float32 is refused."""
import numpy as np
import pytest

import minitune
from minitune import Function, GradcheckError, gradcheck

pytestmark = pytest.mark.autograd


class FlippedConv1d(Function):
    """A 1-D 'valid' correlation whose backward wrongly flips the kernel — invisible to an
    all-ones upstream gradient for a symmetric input, caught by a random one."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return np.correlate(x, w, mode="valid")

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = np.convolve(g, w[::-1], mode="full")  # wrong: should be np.convolve(g, w)
        gw = np.correlate(x, g, mode="valid")
        return gx, gw


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a  # wrong: 2a


class OneHotBlindSquare(Function):
    """y = a²; its backward is right (2a·g) for a dense upstream gradient and wrong (3a·g) for a
    one-hot one: invisible to ⟨v, f⟩ with a random v, caught by the full-Jacobian check."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return (2 if np.count_nonzero(g) > 1 else 3) * a * g


def _x(*shape, seed=0):
    return minitune.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_passes_a_correct_function():
    assert gradcheck(lambda a, b: (a @ b).sigmoid(), (_x(3, 4), _x(4, 2, seed=1)))


def test_catches_wrong_backward_and_prints_a_table():
    with pytest.raises(GradcheckError) as err:
        gradcheck(WrongSquare.apply, (_x(5),))
    text = str(err.value)
    assert "analytic" in text and "numeric" in text and "rel err" in text


def test_catches_flipped_kernel():
    x, w = _x(8), _x(3, seed=1)
    with pytest.raises(GradcheckError):
        gradcheck(FlippedConv1d.apply, (x, w))


def test_fast_mode_catches_wrong_backward_too():
    assert gradcheck(lambda a: a.tanh() * a, (_x(40, 30),), fast_mode=True)
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(WrongSquare.apply, (_x(40, 30),), fast_mode=True)


def test_returns_false_without_raising():
    assert gradcheck(WrongSquare.apply, (_x(3),), raise_exception=False) is False


def test_refuses_float32_unless_allowed():
    x = minitune.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda a: a * 2, (x,))
    assert gradcheck(lambda a: a * 2, (x,), allow_float32=True, eps=1e-2, atol=1e-2)


def test_full_jacobian_catches_a_backward_wrong_only_for_one_hot_upstream():
    with pytest.raises(GradcheckError, match="full Jacobian"):
        gradcheck(OneHotBlindSquare.apply, (_x(4),))
    assert gradcheck(OneHotBlindSquare.apply, (_x(65),))  # more than 64 outputs: no full Jacobian


def test_relu_at_zero_is_flagged_not_failed():
    x = minitune.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    assert gradcheck(lambda a: a.relu(), (x,))
    assert gradcheck.last_nondifferentiable == [(0, (1,))]


def test_kinks_are_those_of_the_latest_call_only():
    relu_at_zero = (lambda a: a.relu(), (minitune.tensor(np.array([0.0, 1.0]), requires_grad=True),))
    assert gradcheck(*relu_at_zero) and gradcheck.last_nondifferentiable == [(0, (0,))]
    assert gradcheck(lambda a: a * 2, (_x(3),))
    assert gradcheck.last_nondifferentiable == []
    assert gradcheck(*relu_at_zero) and gradcheck.last_nondifferentiable == [(0, (0,))]
    with pytest.raises(GradcheckError):
        gradcheck(WrongSquare.apply, (_x(3),))
    assert gradcheck.last_nondifferentiable == []


def test_detects_non_reentrant_backward():
    class Counter(Function):
        calls = 0

        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, g):
            Counter.calls += 1
            return g * Counter.calls

    with pytest.raises(GradcheckError, match="reentrant"):
        gradcheck(Counter.apply, (_x(3),))
