"""Each fine-tuning strategy against a hand computation: bitfit, lora, layer-wise lr decay,
gradual unfreezing, L2-SP, and the trainable-parameter counts."""
import numpy as np
import pytest

import minitune
from minitune import nn
from minitune.finetune import (L2SP, FinetuneConfig, LoRAConv2d, LoRALinear, apply_lora, fit, merge_lora,
                               merged_state_dict, param_groups, prepare, trainable_counts)
from minitune.finetune.checkpoint import load_model_file
from minitune.finetune.strategy import STAGES, apply_unfreezing, set_train_mode, stage_of, unfrozen_stages
from minitune.models import resnet18

pytestmark = pytest.mark.finetune


def _model(width=4, classes=3):
    minitune.manual_seed(0)
    return resnet18(num_classes=classes, width=width)


def _step(model, opt, n=4, size=32):
    x = minitune.randn(n, 3, size, size)
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), minitune.tensor(np.arange(n) % 3))
    loss.backward()
    opt.step()
    return loss


def _arrays(model):
    return {k: np.array(v.data) for k, v in model.state_dict().items()}


def test_stages_are_numbered_from_the_top():
    assert [stage_of(n) for n in ("fc.weight", "layer4.1.bn2.bias", "layer3.0.downsample.0.weight",
                                  "layer2.0.conv1.weight", "layer1.1.bn1.weight", "conv1.weight", "bn1.bias")] \
        == [0, 1, 2, 3, 4, 5, 5]


def test_bitfit_trains_exactly_biases_batchnorm_affine_and_the_head():
    model = _model()
    groups = param_groups(model, "bitfit", lr=0.1)
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    # by hand: every BatchNorm's weight and bias (ResNet-18's convs have no bias), and fc
    bn = {f"{m}.{leaf}" for m, mod in model.named_modules() if isinstance(mod, nn.BatchNorm2d)
          for leaf in ("weight", "bias")}
    assert names == bn | {"fc.weight", "fc.bias"} and len(bn) == 2 * 20
    assert sum(len(g["params"]) for g in groups) == len(names)
    w = 4  # BN channels: stem 4, layer1 4×4 BNs, layer2 8×5, layer3 16×5, layer4 32×5 (incl. downsample)
    bn_params = 2 * (w + 4 * w + 5 * 2 * w + 5 * 4 * w + 5 * 8 * w)
    assert trainable_counts(model)[0] == bn_params + 8 * w * 3 + 3
    before = _arrays(model)
    set_train_mode(model, True, "bitfit")
    opt = minitune.optim.SGD([p for g in groups for p in g["params"]], lr=0.1)
    _step(model, opt)
    after = _arrays(model)
    changed = {k for k in before if not np.array_equal(before[k], after[k])}
    stats = {k for k in changed if "running" in k or "num_batches" in k}  # BN stays in train mode
    assert changed - stats == names


def test_lora_linear_forward_and_gradients_by_hand():
    minitune.manual_seed(1)
    base = nn.Linear(5, 3)
    layer = LoRALinear.from_linear(base, rank=2, alpha=4.0)
    W, b, A = base.weight.data.copy(), base.bias.data.copy(), layer.lora_A.data.copy()
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    np.testing.assert_array_equal(layer(minitune.tensor(x)).data, base(minitune.tensor(x)).data)  # B = 0 at start
    B = np.random.default_rng(1).standard_normal((3, 2)).astype(np.float32)
    layer.lora_B.data[...] = B
    s = 4.0 / 2
    y = layer(minitune.tensor(x))
    np.testing.assert_allclose(y.data, x @ (W + s * B @ A).T + b, rtol=1e-5, atol=1e-6)
    G = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32)
    y.backward(minitune.tensor(G))
    # y = x (W + s B A)ᵀ + b  →  ∂/∂B = s Gᵀ x Aᵀ,  ∂/∂A = s Bᵀ Gᵀ x,  W frozen
    np.testing.assert_allclose(layer.lora_B.grad.data, s * G.T @ x @ A.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.lora_A.grad.data, s * B.T @ G.T @ x, rtol=1e-4, atol=1e-5)
    assert layer.weight.grad is None


def test_lora_conv_forward_by_hand_and_merge():
    minitune.manual_seed(2)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
    layer = LoRAConv2d.from_conv(conv, rank=2)
    assert layer.lora_A.shape == (2, 27) and layer.lora_B.shape == (4, 2) and layer.scaling == 1.0
    layer.lora_B.data[...] = np.random.default_rng(3).standard_normal((4, 2)).astype(np.float32)
    merged_w = conv.weight.data + (layer.lora_B.data @ layer.lora_A.data).reshape(4, 3, 3, 3)
    x = minitune.randn(2, 3, 6, 6)
    expect = nn.functional.conv2d(x, minitune.tensor(merged_w), None, 1, 1).data
    np.testing.assert_allclose(layer(x).data, expect, rtol=1e-5, atol=1e-5)
    plain = layer.plain()
    assert type(plain) is nn.Conv2d
    np.testing.assert_allclose(plain(x).data, expect, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(padding="same", padding_mode="reflect"), dict(padding=(1, 2), padding_mode="circular")])
def test_lora_conv_keeps_the_layers_padding(kwargs):
    """The adapted layer pads as the conv it wraps (and its merged copy does too)."""
    minitune.manual_seed(0)
    conv = nn.Conv2d(2, 3, 4, **kwargs)
    lora = LoRAConv2d.from_conv(conv, 2)
    x = minitune.randn(1, 2, 7, 6)
    np.testing.assert_array_equal(lora(x).data, conv(x).data)  # B = 0 at the start
    lora.lora_B.data[...] = np.random.default_rng(0).standard_normal(lora.lora_B.shape)
    np.testing.assert_allclose(lora.plain()(x).data, lora(x).data, rtol=1e-5, atol=1e-6)
    assert not np.allclose(lora(x).data, conv(x).data)


def test_lora_on_resnet_starts_equal_trains_only_adapters_and_merges_to_plain_keys():
    model = _model()
    plain_keys = list(model.state_dict())
    x = minitune.randn(2, 3, 32, 32)
    model.eval()
    before = model(x).data
    names = apply_lora(model, rank=2)
    assert len(names) == 20 and "fc" not in names  # 17 convs 3×3/7×7 + 3 downsample convs
    np.testing.assert_array_equal(model(x).data, before)  # B = 0: the pretrained function
    param_groups(model, "lora", lr=0.1)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {n for n in trainable if n.endswith(("lora_A", "lora_B"))} | {"fc.weight", "fc.bias"}
    for _, p in model.named_parameters():
        if p.requires_grad and p.data.ndim == 2 and p.shape[1] == 2:
            p.data[...] = 0.01  # some non-zero B
    adapted = model(x).data
    state = merged_state_dict(model)
    assert list(state) == plain_keys
    merge_lora(model)
    assert list(model.state_dict()) == plain_keys
    np.testing.assert_allclose(model(x).data, adapted, rtol=1e-4, atol=1e-5)


def test_lr_decay_gives_each_stage_lr_times_gamma_to_the_k():
    model = _model()
    groups = param_groups(model, "full", lr=0.1, lr_decay=0.5)
    assert [g["name"] for g in groups] == list(STAGES)
    assert [g["lr"] for g in groups] == pytest.approx([0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125])
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    w0 = model.layer3[0].conv1.weight.data.copy()
    opt = minitune.optim.SGD(groups, lr=0.1)
    set_train_mode(model, True, "full")
    _step(model, opt)
    # θ' = θ − lr·γ²·g for a layer3 weight: recover g from the step and check the lr
    delta = w0 - model.layer3[0].conv1.weight.data
    g = model.layer3[0].conv1.weight.grad.data
    np.testing.assert_allclose(delta, 0.025 * g, rtol=1e-4, atol=1e-7)  # float32 rounding of θ − Δ


def test_gradual_unfreezing_top_first():
    assert [unfrozen_stages(e, 2) for e in range(12)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    model = _model()
    param_groups(model, "full", lr=0.1)
    apply_unfreezing(model, "full", 2)
    assert {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad} == {"fc", "layer4"}
    set_train_mode(model, True, "full", stages=2)
    modes = {n.split(".")[0]: m.training for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}
    assert modes == {"bn1": False, "layer1": False, "layer2": False, "layer3": False, "layer4": True}


def test_unfreeze_every_in_a_run_changes_only_the_head_in_the_first_epoch(tmp_path):
    common = dict(synthetic_train_per_class=5, synthetic_val_per_class=2, image_size=32, batch_size=8, workers=0,
                  weights="none", width=4, progress=False)
    logs = []
    fit(FinetuneConfig(out=str(tmp_path / "a"), epochs=1, unfreeze_every=1, **common), log=logs.append)
    start = _model(4, 4)  # the run's initialization: manual_seed(0), then resnet18
    state, _ = load_model_file(tmp_path / "a" / "best.npz")
    changed = {k.split(".")[0] for k, v in _arrays(start).items() if not np.array_equal(v, state[k])}
    assert changed == {"fc"}
    assert any("training stages fc;" in line for line in logs)


def test_l2sp_step_by_hand():
    model = _model()
    groups = param_groups(model, "full", lr=0.1)
    theta0 = _arrays(model)
    opt = L2SP(minitune.optim.SGD(groups, lr=0.1), model, alpha=0.3, beta=0.7)
    set_train_mode(model, True, "full")
    _step(model, opt)  # first step from θ⁰: backbone term α(θ − θ⁰) = 0, head term βθ
    w = model.layer2[0].conv1.weight
    np.testing.assert_allclose(w.data, theta0["layer2.0.conv1.weight"] - 0.1 * w.grad.data, rtol=1e-6, atol=1e-7)
    fc = model.fc.weight  # grad holds g + βθ (added in place before the step)
    np.testing.assert_allclose(fc.data, theta0["fc.weight"] - 0.1 * fc.grad.data, rtol=1e-6, atol=1e-7)
    theta1 = _arrays(model)
    x = minitune.randn(4, 3, 32, 32)
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), minitune.tensor([0, 1, 2, 0])).backward()
    raw = {n: np.array(p.grad.data) for n, p in model.named_parameters()}
    opt.step()
    for name in ("layer2.0.conv1.weight", "fc.weight"):
        extra = 0.7 * theta1[name] if name.startswith("fc") else 0.3 * (theta1[name] - theta0[name])
        expect = theta1[name] - 0.1 * (raw[name] + extra)
        np.testing.assert_allclose(_arrays(model)[name], expect, rtol=1e-5, atol=1e-7, err_msg=name)
    # Ω = α/2 Σ‖θ−θ⁰‖² + β/2 ‖θ_head‖², by hand from the arrays
    now = _arrays(model)
    head = [k for k, _ in model.named_parameters() if k.startswith("fc.")]
    back = [k for k, _ in model.named_parameters() if not k.startswith("fc.")]
    omega = 0.15 * sum(np.sum((now[k].astype(np.float64) - theta0[k]) ** 2) for k in back) + \
        0.35 * sum(np.sum(now[k].astype(np.float64) ** 2) for k in head)
    assert opt.penalty() == pytest.approx(omega, rel=1e-6)


def test_head_counts_and_prepare_rejects_unknown():
    model = _model(width=4, classes=3)
    param_groups(model, "head", lr=0.1)
    assert trainable_counts(model) == (32 * 3 + 3, sum(p.data.size for p in model.parameters()))
    with pytest.raises(ValueError, match="strategy must be one of head, full, bitfit, lora"):
        prepare(model, "adapters")


@pytest.mark.parametrize("strategy", ["bitfit", "lora"])
def test_every_strategy_runs_and_saves_a_plain_resnet(tmp_path, strategy):
    out = tmp_path / strategy
    logs = []
    result = fit(FinetuneConfig(out=str(out), strategy=strategy, epochs=1, synthetic_train_per_class=5,
                                synthetic_val_per_class=2, image_size=32, batch_size=8, workers=0, weights="none",
                                width=4, lr_decay=0.8, progress=False), log=logs.append)
    assert any(line.startswith("model: ") and "trainable parameters:" in line for line in logs)
    assert result["trainable_parameters"] < 40000
    state, meta = load_model_file(out / "best.npz")
    assert list(state) == list(resnet18(num_classes=4, width=4).state_dict()) and meta["strategy"] == strategy
