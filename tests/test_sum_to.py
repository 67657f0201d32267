"""``sum_to`` over many random broadcast-compatible shape pairs."""
import numpy as np
import pytest

from minitune.autograd import sum_to

pytestmark = pytest.mark.autograd


def _random_pair(rng):
    """A shape and a shape it broadcasts to: size-1 axes and missing leading axes."""
    out = tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(0, 5)))
    lead = int(rng.integers(0, len(out) + 1))
    small = tuple(1 if rng.random() < 0.4 else n for n in out[lead:])
    return small, out


@pytest.mark.parametrize("seed", range(200))
def test_sum_to_is_the_adjoint_of_broadcasting(seed):
    # <broadcast(a), g> == <a, sum_to(g)> for all a, g: sum_to is broadcasting's transpose.
    rng = np.random.default_rng(seed)
    small, big = _random_pair(rng)
    a = rng.standard_normal(small)
    g = rng.standard_normal(big)
    r = sum_to(g, small)
    assert r.shape == small
    np.testing.assert_allclose(np.sum(np.broadcast_to(a, big) * g), np.sum(a * r), rtol=1e-10, atol=1e-10)


def test_sum_to_examples():
    g = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(sum_to(g, (3, 1)), g.sum(1, keepdims=True))
    np.testing.assert_array_equal(sum_to(g, (4,)), g.sum(0))
    np.testing.assert_array_equal(sum_to(g, ()), g.sum())
    with pytest.raises(ValueError):
        sum_to(g, (2, 4))
