"""The layer modules: each forwards to its functional op with the right arguments and keeps the
right state (BatchNorm's running statistics and counter against torch), plus Dropout's statistics.
Reprs and torch's error messages come from ``tests/reference/nn_layer_facts.npz``."""
import numpy as np
import pytest

import minitune as mt
import minitune.nn.functional as F
import nn_cases
from conftest import load_reference
from minitune import nn

pytestmark = pytest.mark.nn

TORCH = load_reference("nn_layer_facts")  # reprs and error messages


def _rand(*shape, seed=0):
    return mt.tensor(np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("case, make", nn_cases.REPRS, ids=[c[0] for c in nn_cases.REPRS])
def test_repr_like_torch(case, make):
    assert repr(make(nn)) == TORCH[f"repr/{case}"].item()


LAYERS = [
    # (module, input shape, the same computation through F)
    (lambda: nn.Linear(6, 3), (4, 6), lambda m, x: F.linear(x, m.weight, m.bias)),
    (lambda: nn.Linear(6, 3, bias=False), (2, 5, 6), lambda m, x: F.linear(x, m.weight)),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 7),
     lambda m, x: F.conv2d(x, m.weight, m.bias, 2, 1)),
    (lambda: nn.Conv2d(4, 4, 3, groups=2, bias=False), (1, 4, 5, 5),
     lambda m, x: F.conv2d(x, m.weight, None, 1, 0, 1, 2)),
    (lambda: nn.ReLU(), (3, 4), lambda m, x: F.relu(x)),
    (lambda: nn.MaxPool2d(3, 2, 1), (2, 2, 7, 7), lambda m, x: F.max_pool2d(x, 3, 2, 1)),
    (lambda: nn.AvgPool2d(2), (2, 2, 6, 6), lambda m, x: F.avg_pool2d(x, 2, 2)),
    (lambda: nn.AdaptiveAvgPool2d((1, 1)), (2, 3, 5, 5), lambda m, x: F.adaptive_avg_pool2d(x, (1, 1))),
    (lambda: nn.Flatten(), (2, 3, 4, 5), lambda m, x: x.reshape(2, 60)),
    (lambda: nn.Flatten(0, 1), (2, 3, 4), lambda m, x: x.reshape(6, 4)),
    (lambda: nn.Identity(7, key="ignored"), (2, 3), lambda m, x: x),
    (lambda: nn.Dropout(0.5).eval(), (4, 4), lambda m, x: x),
]


@pytest.mark.parametrize("make, shape, reference", LAYERS)
def test_layer_forwards_to_functional(make, shape, reference):
    module = make().double()
    x = _rand(*shape)
    np.testing.assert_array_equal(module(x).data, reference(module, x).data)


@pytest.mark.parametrize("make, shape", [(make, shape) for make, shape, _ in LAYERS[:4]])
def test_layer_gradcheck(make, shape):
    module = make().double()
    x = _rand(*shape).requires_grad_()
    params = list(module.parameters())

    def run(x, *weights):
        return module(x)

    assert mt.gradcheck(run, (x, *params), fast_mode=True)


@pytest.mark.parametrize("case", ["nn_bn_momentum0.1", "nn_bn_momentum_none"])
def test_batchnorm_module_matches_torch(case):
    ref = load_reference(case)
    bn = nn.BatchNorm2d(2, momentum=0.1 if case.endswith("0.1") else None).double()
    bn.weight.data[:] = ref["weight"]
    bn.bias.data[:] = ref["bias"]
    with mt.no_grad():
        y1, y2 = bn(mt.tensor(ref["x1"])), bn(mt.tensor(ref["x2"]))
        bn.eval()
        y_eval = bn(mt.tensor(ref["x1"]))
    for ours, key in ((y1, "y1"), (y2, "y2"), (y_eval, "y_eval"), (bn.running_mean, "running_mean"),
                      (bn.running_var, "running_var")):
        np.testing.assert_allclose(ours.data, ref[key], rtol=1e-10, atol=1e-12, err_msg=key)
    assert bn.num_batches_tracked.item() == ref["num_batches_tracked"] == 2  # eval did not count


def test_batchnorm_eval_uses_running_statistics_and_changes_nothing():
    bn = nn.BatchNorm2d(3)
    bn.running_mean.data[:] = [1.0, 2.0, 3.0]
    bn.running_var.data[:] = [4.0, 1.0, 0.25]
    bn.eval()
    x = mt.randn(2, 3, 4, 4)
    y = bn(x)
    expected = (x.data - bn.running_mean.data[:, None, None]) / np.sqrt(bn.running_var.data[:, None, None] + 1e-5)
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.running_mean.data, [1.0, 2.0, 3.0])
    assert bn.num_batches_tracked.item() == 0


def test_frozen_batchnorm_still_updates_running_stats_in_train_mode():
    # The fine-tuning trap (torch behaves the same): requires_grad_(False) does not freeze the statistics.
    bn = nn.BatchNorm2d(2).requires_grad_(False)
    bn(mt.randn(4, 2, 3, 3) + 5)
    assert bn.num_batches_tracked.item() == 1 and (bn.running_mean.data > 0.3).all()


def test_batchnorm_without_running_stats_or_affine():
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    x = mt.randn(3, 2, 4, 4) * 3 + 2
    y = bn(x).data  # batch statistics even in eval mode
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-3)


@pytest.mark.parametrize("x, message", [(mt.randn(2, 3), "expected 4D input"), (mt.randn(2, 5, 3, 3), "expected 3 channels")])
def test_batchnorm_rejects_bad_input(x, message):
    with pytest.raises(ValueError, match=message):
        nn.BatchNorm2d(3)(x)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_is_inverted_and_reproducible(p):
    mt.manual_seed(0)
    x = mt.ones(200, 500)
    y = nn.Dropout(p)(x).data
    kept = y != 0
    assert kept.mean() == pytest.approx(1 - p, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)  # survivors are scaled by 1/(1−p)
    assert y.mean() == pytest.approx(1.0, abs=0.02)  # so the expectation is unchanged
    mt.manual_seed(0)
    np.testing.assert_array_equal(nn.Dropout(p)(x).data, y)


def test_dropout_gradient_uses_the_same_mask():
    x = _rand(5, 6).requires_grad_()
    y = F.dropout(x, 0.4, generator=np.random.default_rng(3))
    y.backward(mt.ones(5, 6, dtype=mt.float64))
    np.testing.assert_allclose(x.grad.data, (y.data != 0) / 0.6)
    assert mt.gradcheck(lambda x: F.dropout(x, 0.4, generator=np.random.default_rng(3)), (x,))


@pytest.mark.parametrize("p, expected", [(0.0, "same"), (1.0, "zeros")])
def test_dropout_extremes(p, expected):
    x = mt.randn(3, 4)
    y = F.dropout(x, p)
    assert (y is x) if expected == "same" else not y.data.any()


@pytest.mark.parametrize("case, call", nn_cases.LAYER_ERRORS, ids=[c[0] for c in nn_cases.LAYER_ERRORS])
def test_refusals_say_what_torchs_say(case, call):
    torch_error, torch_message = TORCH[f"error/{case}"].tolist()
    error, message = nn_cases.error_message(call, nn, mt)
    assert error == torch_error and torch_message in message


@pytest.mark.parametrize("p", [-0.1, 1.5, "half", True])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(mt.randn(2), p)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(3, 4, (3, 3, 3)), "kernel_size must be an int or a pair"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"), "invalid padding string"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), "not supported for strided"),
    (lambda: nn.Linear(-1, 3), "in_features must be a non-negative int"),
    (lambda: nn.BatchNorm2d(0), "num_features must be a positive int"),
])
def test_constructors_reject_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
