"""``minitune.nn.init``: torch's gains, fans and error messages, the spread of every initializer
and of the default Linear/Conv2d init (statistically: minitune's random stream is not torch's),
reproducibility.  The expected values are torch's (``tests/reference/nn_init_facts.npz``)."""
import numpy as np
import pytest

import minitune as mt
import nn_cases
from conftest import load_reference
from minitune import nn
from minitune.nn import init

pytestmark = pytest.mark.nn


FACTS = load_reference("nn_init_facts")


@pytest.mark.parametrize("case, gain", list(zip(nn_cases.GAINS, FACTS["gains"])), ids=str)
def test_calculate_gain_is_torchs(case, gain):
    assert init.calculate_gain(*case) == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize("shape", nn_cases.FAN_SHAPES, ids=str)
def test_fans_are_torchs(shape):
    # (out, in, k₁, …): fan_in = in·k₁·…, fan_out = out·k₁·…
    expected = FACTS["fans/" + "x".join(map(str, shape))].tolist()
    assert list(init._calculate_fan_in_and_fan_out(mt.zeros(*shape))) == expected


@pytest.mark.parametrize("case, function, kwargs", nn_cases.INITIALIZERS, ids=[c[0] for c in nn_cases.INITIALIZERS])
def test_initializer_spread_is_torchs(case, function, kwargs):
    # minitune's random stream is not torch's: the sample statistics of a large weight agree, the
    # numbers do not.  Each sample std is within ~0.3% of the distribution's (n ≈ 150 000).
    torch_std, _, torch_max = FACTS["spread/" + case]
    mt.manual_seed(0)
    w = nn.Parameter(mt.zeros(*nn_cases.SPREAD_SHAPE))
    assert getattr(init, function)(w, **kwargs) is w
    assert w.is_leaf and w.requires_grad and w.dtype == np.float32
    assert abs(w.data.mean()) < 0.05 * torch_std
    assert w.data.std() == pytest.approx(torch_std, rel=0.01)
    if function in nn_cases.UNIFORM_INITIALIZERS:  # both maxima are within ~1e-5 of the bound
        assert np.abs(w.data).max() == pytest.approx(torch_max, rel=1e-3)


@pytest.mark.parametrize("fn, value", [(init.zeros_, 0.0), (init.ones_, 1.0), (lambda t: init.constant_(t, 0.25), 0.25)])
def test_constant_initializers(fn, value):
    w = nn.Parameter(mt.randn(3, 4))
    fn(w)
    assert (w.data == value).all()


@pytest.mark.parametrize("case, make", nn_cases.DEFAULT_INIT, ids=[c[0] for c in nn_cases.DEFAULT_INIT])
def test_default_layer_init_is_torchs(case, make):
    # Torch's kaiming_uniform_(a=√5) weight and uniform bias: the spread and bound of each agree.
    torch_std, torch_max, torch_bias_max = FACTS["default/" + case]
    mt.manual_seed(1)
    layer = make(nn)
    assert layer.weight.data.std() == pytest.approx(torch_std, rel=0.02)
    assert np.abs(layer.weight.data).max() == pytest.approx(torch_max, rel=2e-3)
    if layer.bias.data.size >= 10_000:  # long enough for its max to find the bound
        assert np.abs(layer.bias.data).max() == pytest.approx(torch_bias_max, rel=2e-3)


def test_manual_seed_makes_init_reproducible():
    mt.manual_seed(123)
    a = nn.Conv2d(3, 8, 3)
    mt.manual_seed(123)
    b = nn.Conv2d(3, 8, 3)
    c = nn.Conv2d(3, 8, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)


@pytest.mark.parametrize("case, call", nn_cases.INIT_ERRORS, ids=[c[0] for c in nn_cases.INIT_ERRORS])
def test_refusals_are_torchs(case, call):
    torch_error, torch_message = FACTS["error/" + case].tolist()
    error, message = nn_cases.error_message(call, init, mt)
    assert error == torch_error and message.startswith(torch_message)


def test_init_refuses_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="expect a Tensor"):
        init.normal_(np.zeros(3))
