"""Cross-entropy, nll_loss, softmax and log_softmax: torch's values and gradients for every option
combination, finite-difference gradchecks, and the errors for bad targets."""
import pathlib

import numpy as np
import pytest

import minitune as mt
import minitune.nn.functional as F
from conftest import REFERENCE, load_reference
from minitune import nn

pytestmark = pytest.mark.nn

CE_CASES = sorted(p.stem for p in pathlib.Path(REFERENCE).glob("nn_ce_*.npz"))
W = [1.0, 2.0, 0.5, 1.5]


def _ce_args(ref):
    x = mt.tensor(ref["input"], requires_grad=True)
    target = mt.tensor(ref["target"])
    weight = mt.tensor(ref["weight"]) if ref["weight"].size else None
    return x, target, dict(weight=weight, reduction=str(ref["reduction"]), label_smoothing=float(ref["label_smoothing"]))


def test_every_option_combination_has_a_fixture():
    # 3 target kinds (none/some/all ignored) + probabilities, × weight × reduction × smoothing, + spatial, + float32
    assert len(CE_CASES) == 4 * 12 + 3 + 1


@pytest.mark.parametrize("case", CE_CASES)
def test_cross_entropy_matches_torch(case):
    ref = load_reference(case)
    x, target, kwargs = _ce_args(ref)
    loss = F.cross_entropy(x, target, **kwargs)
    tol = dict(rtol=1e-5, atol=1e-6) if x.dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert loss.dtype == x.dtype
    np.testing.assert_allclose(loss.data, ref["loss"], equal_nan=True, **tol, err_msg="forward vs torch")
    loss.backward(mt.tensor(ref["upstream"].astype(x.dtype)))
    np.testing.assert_allclose(x.grad.data, ref["grad"], **tol, err_msg="backward vs torch")


@pytest.mark.parametrize("case", CE_CASES)
def test_cross_entropy_module_equals_functional(case):
    ref = load_reference(case)
    x, target, kwargs = _ce_args(ref)
    module = nn.CrossEntropyLoss(**kwargs)
    np.testing.assert_array_equal(module(x, target).data, F.cross_entropy(x, target, **kwargs).data)


def test_all_ignored_mean_is_nan_with_zero_gradient():
    # torch's definition: 0/0 for the loss, while ignored rows contribute nothing to the gradient.
    ref = load_reference("nn_ce_indexall_w_mean_ls0.2")
    assert np.isnan(ref["loss"]) and not ref["grad"].any()
    x, target, kwargs = _ce_args(ref)
    loss = F.cross_entropy(x, target, **kwargs)
    loss.backward()
    assert np.isnan(loss.item()) and not x.grad.data.any()


GRADCHECK_CASES = [
    # (targets, weight, reduction, label_smoothing)
    ("index", None, "mean", 0.0),
    ("index", W, "mean", 0.0),
    ("index", W, "sum", 0.3),
    ("index", None, "none", 0.3),
    ("ignored", W, "mean", 0.2),
    ("ignored", None, "none", 0.0),
    ("prob", None, "mean", 0.0),
    ("prob", W, "mean", 0.1),
    ("prob", W, "none", 0.0),
    ("spatial", W, "mean", 0.1),
]


@pytest.mark.parametrize("targets, weight, reduction, eps", GRADCHECK_CASES)
def test_cross_entropy_gradcheck(targets, weight, reduction, eps):
    rng = np.random.default_rng(0)
    shape = (3, 4, 2) if targets == "spatial" else (4, 4)
    x = mt.tensor(rng.standard_normal(shape), requires_grad=True)
    if targets == "prob":
        t = mt.tensor(rng.dirichlet(np.ones(4), size=4), requires_grad=True)  # soft targets get a gradient too
    else:
        t = mt.tensor(rng.integers(0, 4, shape[:1] + shape[2:]))
        if targets in ("ignored", "spatial"):
            t.data.reshape(-1)[::2] = -100
    w = None if weight is None else mt.tensor(weight, dtype=mt.float64)
    assert mt.gradcheck(lambda x, t: F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=eps),
                        (x, t))


def test_backward_is_one_fused_node():
    x = mt.randn(3, 5, requires_grad=True)
    loss = F.cross_entropy(x, mt.tensor([0, 4, 2]))
    assert loss.grad_fn.name() == "CrossEntropyBackward0"
    assert loss.grad_fn.inputs[0] is x  # straight from the logits: no softmax/log/mean nodes in between


def test_gradient_is_softmax_minus_onehot_over_n():
    # The lecture's formula for the default options, written out with numpy.
    rng = np.random.default_rng(1)
    logits, target = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    x = mt.tensor(logits, requires_grad=True)
    F.cross_entropy(x, mt.tensor(target)).backward()
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad.data, (p - np.eye(3)[target]) / 6, rtol=1e-12)


def test_cross_entropy_equals_nll_of_log_softmax():
    x = mt.randn(4, 3, dtype=mt.float64)
    t = mt.tensor([0, 2, 1, 1])
    np.testing.assert_allclose(F.cross_entropy(x, t).data, F.nll_loss(F.log_softmax(x, 1), t).data, rtol=1e-12)


def test_unbatched_input():
    x = mt.tensor([1.0, 2.0, 0.5], dtype=mt.float64)
    batched = F.cross_entropy(x.reshape(1, 3), mt.tensor([1]))
    np.testing.assert_allclose(F.cross_entropy(x, mt.tensor(1)).data, batched.data)


@pytest.mark.parametrize("case", ["nn_softmax_dim0", "nn_softmax_dim1", "nn_softmax_dim-1"])
def test_softmax_and_log_softmax_match_torch(case):
    ref = load_reference(case)
    dim = int(ref["dim"])
    for fn, key in ((F.softmax, "softmax"), (F.log_softmax, "log_softmax")):
        x = mt.tensor(ref["input"], requires_grad=True)
        y = fn(x, dim)
        np.testing.assert_allclose(y.data, ref[key], rtol=1e-12, atol=1e-14, err_msg=f"{key} forward")
        y.backward(mt.tensor(ref["upstream"]))
        np.testing.assert_allclose(x.grad.data, ref["grad_" + key], rtol=1e-10, atol=1e-14, err_msg=f"{key} backward")


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_gradcheck(fn, dim):
    x = mt.tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    assert mt.gradcheck(lambda x: fn(x, dim), (x,))


def test_softmax_is_stable_for_large_logits():
    x = mt.tensor([[1000.0, 0.0, -1000.0]])
    assert np.isfinite(F.log_softmax(x, 1).data).all()
    np.testing.assert_allclose(F.softmax(x, 1).data, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("case", ["nn_nll_nw_mean", "nn_nll_w_mean", "nn_nll_w_sum", "nn_nll_w_none"])
def test_nll_loss_matches_torch(case):
    ref = load_reference(case)
    x = mt.tensor(ref["input"], requires_grad=True)
    weight = mt.tensor(ref["weight"]) if ref["weight"].size else None
    loss = F.nll_loss(x, mt.tensor(ref["target"]), weight=weight, reduction=str(ref["reduction"]))
    np.testing.assert_allclose(loss.data, ref["loss"], rtol=1e-12)
    loss.backward(mt.tensor(ref["upstream"]))
    np.testing.assert_allclose(x.grad.data, ref["grad"], rtol=1e-12)
    module = nn.NLLLoss(weight=weight, reduction=str(ref["reduction"]))
    np.testing.assert_array_equal(module(x, mt.tensor(ref["target"])).data, loss.data)


BAD_INPUTS = [
    # (input shape, target, kwargs, error, message fragment)
    ((3, 4), mt.tensor([0, 1, 4]), {}, ValueError, "target 4 is out of bounds"),
    ((3, 4), mt.tensor([0, -1, 2]), {}, ValueError, "target -1 is out of bounds"),
    ((3, 4), mt.tensor([0, 1]), {}, ValueError, "must have shape (3,)"),
    ((3, 4), mt.tensor([[0], [1], [2]]), {}, ValueError, "must have shape (3,)"),
    ((3, 4), mt.tensor([0.0, 1.0, 2.0]), {}, ValueError, "class probabilities"),
    ((3, 4), mt.tensor([True, False, True]), {}, TypeError, "got dtype bool"),
    ((3, 4), [0, 1, 2], {}, TypeError, "target must be a Tensor"),
    ((3, 4), mt.tensor([0, 1, 2]), {"reduction": "avg"}, ValueError, "reduction must be one of"),
    ((3, 4), mt.tensor([0, 1, 2]), {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ((3, 4), mt.tensor([0, 1, 2]), {"weight": mt.tensor([1.0, 2.0])}, ValueError, "length C=4"),
    ((3, 4), mt.ones(3, 4) / 4, {"ignore_index": 1}, ValueError, "ignore_index is not supported"),  # as torch
]


@pytest.mark.parametrize("shape, target, kwargs, error, message", BAD_INPUTS)
def test_cross_entropy_rejects_bad_input(shape, target, kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        F.cross_entropy(mt.randn(*shape), target, **kwargs)


def test_integer_logits_are_rejected():
    with pytest.raises(TypeError, match="floating point"):
        F.cross_entropy(mt.tensor([[1, 2]]), mt.tensor([0]))
    with pytest.raises(TypeError, match="integer tensor of class indices"):
        F.nll_loss(mt.randn(2, 3), mt.tensor([[0.2, 0.3, 0.5]] * 2))
