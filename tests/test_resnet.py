"""ResNet-18/34: torchvision's structure (keys, shapes, parameter count, init) and a whole-model
parity check against torch on a width-4 ResNet-18: logits in eval and train mode, the loss, every
parameter's gradient and the running statistics afterwards."""
import sys
import types

import numpy as np
import pytest

import minitune as mt
import minitune.nn.functional as F
from conftest import load_reference
from minitune import nn
from minitune.models import BasicBlock, resnet18, resnet34

pytestmark = pytest.mark.nn


@pytest.fixture(scope="module")
def full():
    mt.manual_seed(0)
    return resnet18()


@pytest.fixture(scope="module")
def parity():
    return load_reference("nn_resnet18_width4")


def test_parameter_count_and_keys(full, parity):
    assert sum(p.numel() for p in full.parameters()) == 11_689_512
    assert len(list(full.parameters())) == 62
    sd = full.state_dict()
    assert len(sd) == 122
    assert len([k for k in sd if not k.endswith("num_batches_tracked")]) == 102
    assert list(sd) == list(parity["state_keys"])  # torch's key names and order (they do not depend on width)
    assert [k for k, _ in full.named_parameters()] == list(parity["parameter_keys"])
    assert sd["conv1.weight"].shape == (64, 3, 7, 7) and sd["layer4.1.conv2.weight"].shape == (512, 512, 3, 3)
    assert sd["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1) and sd["fc.weight"].shape == (1000, 512)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in full.modules()) == 20
    assert all(v.dtype == np.int64 and v.shape == () for k, v in sd.items() if k.endswith("num_batches_tracked"))
    without_counters = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    assert full.load_state_dict(without_counters) == ([], [])  # 102 keys: an old-style checkpoint loads too


def test_resnet34_parameter_count():
    assert sum(p.numel() for p in resnet34().parameters()) == 21_797_672


def test_repr_lines(full):
    text = repr(full)
    assert text.startswith("ResNet(\n  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)\n")
    assert ("  (layer2): Sequential(\n    (0): BasicBlock(\n"
            "      (conv1): Conv2d(64, 128, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)\n") in text
    assert "      (downsample): Sequential(\n        (0): Conv2d(64, 128, kernel_size=(1, 1), stride=(2, 2), bias=False)" in text
    assert text.endswith("  (fc): Linear(in_features=512, out_features=1000, bias=True)\n)")


def test_torchvision_init(full):
    # convs: kaiming_normal_(fan_out, relu) → std √(2/(out·kh·kw)); BN γ=1, β=0; fc: U(±1/√512)
    w = full.layer4[1].conv2.weight.data
    assert w.std() == pytest.approx(np.sqrt(2 / (512 * 9)), rel=0.01)
    assert full.conv1.weight.data.std() == pytest.approx(np.sqrt(2 / (64 * 49)), rel=0.03)
    for m in full.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight.data == 1).all() and (m.bias.data == 0).all()
            assert (m.running_mean.data == 0).all() and (m.running_var.data == 1).all()
    assert np.abs(full.fc.weight.data).max() <= 1 / np.sqrt(512)
    assert full.fc.weight.data.std() == pytest.approx(1 / np.sqrt(3 * 512), rel=0.02)


@pytest.mark.parametrize("zero_init_residual", [False, True])
def test_zero_init_residual(zero_init_residual):
    model = resnet18(width=4, zero_init_residual=zero_init_residual)
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 8
    assert all((b.bn2.weight.data == 0).all() == zero_init_residual for b in blocks)
    assert all((b.bn1.weight.data == 1).all() for b in blocks)


def _load_parity_model(ref):
    model = resnet18(width=int(ref["width"]), num_classes=int(ref["num_classes"]))
    state = {k[len("state/"):]: v for k, v in ref.items() if k.startswith("state/")}
    assert model.load_state_dict(state) == ([], [])
    return model


def test_parity_with_torch(parity):
    """One table of checks; tolerances are float32's over ~20 layers (torch sums in another order)."""
    model = _load_parity_model(parity)
    x = mt.tensor(parity["input"].astype(np.float32))
    model.eval()
    with mt.no_grad():
        logits_eval = model(x)
    np.testing.assert_allclose(logits_eval.data, parity["logits_eval"], rtol=1e-4, atol=1e-5, err_msg="eval logits")
    assert all(v.item() == 3 for k, v in model.state_dict().items() if k.endswith("num_batches_tracked"))

    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, mt.tensor(parity["target"]))
    loss.backward()
    np.testing.assert_allclose(logits.data, parity["logits_train"], rtol=1e-4, atol=1e-5, err_msg="train logits")
    np.testing.assert_allclose(loss.item(), parity["loss"], rtol=1e-5, err_msg="loss")
    for name, p in model.named_parameters():
        g = parity["grad/" + name]
        # relative to the tensor's largest gradient: small entries carry float32 cancellation noise
        np.testing.assert_allclose(p.grad.data, g, rtol=0, atol=1e-4 * np.abs(g).max(), err_msg=f"grad of {name}")
    for name, v in model.state_dict().items():
        if "after/" + name in parity:
            np.testing.assert_allclose(v.data, parity["after/" + name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert model.layer3[0].bn1.num_batches_tracked.item() == 4


def test_eval_mode_makes_predictions_independent_of_the_batch(parity):
    model = _load_parity_model(parity).eval()
    x = mt.tensor(parity["input"].astype(np.float32))
    with mt.no_grad():
        both, first = model(x), model(x[:1])
    np.testing.assert_allclose(first.data, both.data[:1], rtol=1e-5, atol=1e-6)
    model.train()
    with mt.no_grad():
        assert not np.allclose(model(x[:1] * 1).data, model(x).data[:1], atol=1e-3)  # batch statistics


def test_state_dict_round_trip_and_102_keys(parity):
    model = _load_parity_model(parity)
    copy = resnet18(width=int(parity["width"]), num_classes=int(parity["num_classes"]))
    assert copy.load_state_dict({k: v.numpy().copy() for k, v in model.state_dict().items()}) == ([], [])
    for (k, a), b in zip(model.state_dict().items(), copy.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)
    fresh = resnet18(width=int(parity["width"]), num_classes=int(parity["num_classes"]))
    old_style = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert len(old_style) == 102
    assert fresh.load_state_dict(old_style) == ([], [])
    assert all(v.item() == 0 for k, v in fresh.state_dict().items() if k.endswith("num_batches_tracked"))


def test_loading_into_a_different_head_names_the_keys(parity):
    model = resnet18(width=int(parity["width"]), num_classes=2)
    state = {k[len("state/"):]: v for k, v in parity.items() if k.startswith("state/")}
    with pytest.raises(RuntimeError, match=r"size mismatch for fc.weight: .*\[5, 32\].*\[2, 32\]") as info:
        model.load_state_dict(state)
    assert "size mismatch for fc.bias" in str(info.value)


def test_replacing_the_head_and_freezing_the_backbone(parity):
    model = _load_parity_model(parity)
    model.requires_grad_(False)
    model.fc = nn.Linear(model.fc.in_features, 3)
    assert [k for k, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    assert list(model.state_dict())[-2:] == ["fc.weight", "fc.bias"] and model.fc.weight.shape == (3, 32)
    out = model(mt.tensor(parity["input"].astype(np.float32)))
    assert out.shape == (2, 3)
    F.cross_entropy(out, mt.tensor([0, 2])).backward()
    assert all(p.grad is None for n, p in model.named_parameters() if not n.startswith("fc."))
    assert model.fc.weight.grad is not None and model.fc.weight.grad.data.any()


@pytest.mark.parametrize("width, size, classes", [(8, 32, 10), (4, 17, 2)])
def test_output_shapes(width, size, classes):
    model = resnet18(width=width, num_classes=classes).eval()
    with mt.no_grad():
        assert model(mt.randn(2, 3, size, size)).shape == (2, classes)


def test_pretrained_weights_are_delegated(monkeypatch):
    calls = []
    fake = types.ModuleType("minitune.models.weights")
    fake.load_pretrained = lambda model, weights, num_classes, arch: calls.append((weights, num_classes, arch))
    monkeypatch.setitem(sys.modules, "minitune.models.weights", fake)
    resnet18(weights="IMAGENET1K_V1", width=4)
    assert calls == [("IMAGENET1K_V1", 1000, "resnet18")]


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_classes=0), "num_classes must be a positive int"),
    (dict(width=2.5), "width must be a positive int"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        resnet18(**kwargs)
