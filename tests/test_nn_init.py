"""``minitune.nn.init``: torch's gains and fans, the spread of every initializer (statistically:
minitune's random stream is not torch's), the default Linear/Conv2d init and reproducibility."""
import math

import numpy as np
import pytest

import minitune as mt
from minitune import nn
from minitune.nn import init

pytestmark = pytest.mark.nn


@pytest.mark.parametrize("nonlinearity, param, gain", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", math.sqrt(5), math.sqrt(2 / 6)), ("selu", None, 0.75),
])
def test_calculate_gain(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain)


def test_fans_of_a_conv_weight():
    # (out, in, kh, kw) = (8, 3, 5, 5): fan_in = in·kh·kw, fan_out = out·kh·kw
    assert init._calculate_fan_in_and_fan_out(mt.zeros(8, 3, 5, 5)) == (75, 200)
    assert init._calculate_fan_in_and_fan_out(mt.zeros(10, 4)) == (4, 10)


# Large tensors, so that the sample std is within ~1.5% of the target with overwhelming probability.
SHAPE = (256, 64, 3, 3)  # fan_in 576, fan_out 2304
FAN_IN, FAN_OUT = 64 * 9, 256 * 9


@pytest.mark.parametrize("fn, kwargs, std", [
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / FAN_OUT)),
    (init.kaiming_normal_, dict(mode="fan_in", nonlinearity="relu"), math.sqrt(2 / FAN_IN)),
    (init.kaiming_normal_, dict(), math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(FAN_IN)),
    (init.kaiming_uniform_, dict(a=math.sqrt(5)), 1 / math.sqrt(3 * FAN_IN)),
    (init.kaiming_uniform_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / FAN_OUT)),
    (init.xavier_uniform_, dict(), math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.xavier_normal_, dict(gain=2.0), 2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.normal_, dict(std=0.3), 0.3),
    (init.uniform_, dict(a=-1.0, b=1.0), 1 / math.sqrt(3)),
])
def test_initializer_spread(fn, kwargs, std):
    mt.manual_seed(0)
    w = nn.Parameter(mt.zeros(*SHAPE))
    assert fn(w, **kwargs) is w
    assert w.is_leaf and w.requires_grad and w.dtype == np.float32
    assert abs(w.data.mean()) < 0.05 * std
    assert w.data.std() == pytest.approx(std, rel=0.015)
    if fn in (init.kaiming_uniform_, init.xavier_uniform_, init.uniform_):
        assert np.abs(w.data).max() <= math.sqrt(3) * std * (1 + 1e-6)


@pytest.mark.parametrize("fn, value", [(init.zeros_, 0.0), (init.ones_, 1.0), (lambda t: init.constant_(t, 0.25), 0.25)])
def test_constant_initializers(fn, value):
    w = nn.Parameter(mt.randn(3, 4))
    fn(w)
    assert (w.data == value).all()


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(400, 300), 400),
    (lambda: nn.Conv2d(16, 64, 5), 16 * 25),
])
def test_default_layer_init_is_torchs(make, fan_in):
    # kaiming_uniform_(a=√5) = U(−1/√fan_in, 1/√fan_in), bias U(−1/√fan_in, 1/√fan_in)
    mt.manual_seed(1)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(layer.bias.data).max() <= bound


def test_manual_seed_makes_init_reproducible():
    mt.manual_seed(123)
    a = nn.Conv2d(3, 8, 3)
    mt.manual_seed(123)
    b = nn.Conv2d(3, 8, 3)
    c = nn.Conv2d(3, 8, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.kaiming_normal_(mt.zeros(5)), ValueError, "fewer than 2 dimensions"),
    (lambda: init.kaiming_normal_(mt.zeros(5, 5), mode="fan_avg"), ValueError, "fan_in, fan_out"),
    (lambda: init.kaiming_normal_(mt.zeros(5, 5), nonlinearity="gelu"), ValueError, "Unsupported nonlinearity"),
    (lambda: init.normal_(np.zeros(3)), TypeError, "expect a Tensor"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
