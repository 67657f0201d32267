"""Fine-tuning strategies: which parameters train, at which learning rate, and BatchNorm's mode.

ResNet-18 is cut into six *stages*, numbered from the top (the head) down:

    k = 0 fc · 1 layer4 · 2 layer3 · 3 layer2 · 4 layer1 · 5 stem (conv1, bn1)

Strategies (``--strategy``) — the parameters that train:

``head``    only the new fc.  The backbone is frozen (``requires_grad_(False)``) *and* its
            BatchNorm layers stay in eval mode — ``requires_grad=False`` alone does not stop a
            train-mode forward from updating running statistics, the classic "my frozen feature
            extractor still changes" trap.
``full``    every parameter.
``bitfit``  every bias and every BatchNorm affine parameter (γ, β), + the new fc (Zaken et al.,
            2021); convolution weights stay frozen.  BatchNorm stays in train mode.
``lora``    the adapters A, B of every Conv2d (:mod:`minitune.finetune.lora`, W + (α/r)·B·A) +
            the new fc; W, BatchNorm γ, β frozen.  BatchNorm stays in train mode.

Learning rates (``param_groups``): one group per stage, named by it,

    lr_k = lr · γᵏ        with ``lr_decay=γ`` (layer-wise lr decay; γ = 1: all at lr);

without ``lr_decay``, the head at ``lr`` and every backbone stage at ``backbone_lr`` (default lr).

Gradual unfreezing (``--unfreeze-every E``, ULMFiT, Howard & Ruder 2018): during epoch e
(0-based) only stages k < 1 + ⌊e / E⌋ train — the head first, then one more stage every E
epochs, top first; frozen stages keep their BatchNorm in eval mode.  ``unfrozen_stages(e, E)``.

With ``freeze_bn`` every BatchNorm stays in eval mode: weights train, running statistics keep
their pretrained values (useful with small batches).

Python API (stable): ``STAGES``, ``stage_of(name)``, ``trains(strategy, name)``,
``prepare(model, strategy, lora_rank, lora_alpha)``, ``param_groups(model, strategy, lr,
backbone_lr=None, lr_decay=None)``, ``apply_unfreezing(model, strategy, stages)``,
``unfrozen_stages(epoch, every)``, ``set_train_mode(model, training, strategy, freeze_bn, stages)``,
``trainable_counts(model)``.
"""
from .. import nn
from .lora import apply_lora

STRATEGIES = ("head", "full", "bitfit", "lora")
STAGES = ("fc", "layer4", "layer3", "layer2", "layer1", "stem")


def stage_of(name):
    """The stage index k of a parameter or module name: 0 for ``fc.weight`` … 5 for ``conv1.weight``."""
    top = name.split(".")[0]
    return STAGES.index(top) if top in STAGES else len(STAGES) - 1


def _is_bn_affine(model, name):
    module_name, _, leaf = name.rpartition(".")
    return leaf in ("weight", "bias") and isinstance(model.get_submodule(module_name), nn.BatchNorm2d)


def trains(model, strategy, name):
    """Whether parameter ``name`` trains under ``strategy`` (before gradual unfreezing)."""
    if stage_of(name) == 0 or strategy == "full":
        return True
    if strategy == "bitfit":
        return name.endswith(".bias") or _is_bn_affine(model, name)
    if strategy == "lora":
        return name.endswith((".lora_A", ".lora_B"))
    if strategy == "head":
        return False
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")


def prepare(model, strategy, lora_rank=4, lora_alpha=None):
    """Make the model ready for ``strategy`` (``lora`` adds adapters to every backbone conv); returns it."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if strategy == "lora":
        apply_lora(model, lora_rank, lora_alpha)
    return model


def apply_unfreezing(model, strategy, stages=len(STAGES)):
    """``requires_grad`` = the strategy trains it and its stage k < ``stages``."""
    for name, p in model.named_parameters():
        p.requires_grad_(trains(model, strategy, name) and stage_of(name) < stages)
    return model


def unfrozen_stages(epoch, every):
    """How many stages train during ``epoch`` (0-based) with gradual unfreezing every ``every`` epochs."""
    if not every:
        return len(STAGES)
    return min(len(STAGES), 1 + epoch // every)


def param_groups(model, strategy, lr, backbone_lr=None, lr_decay=None):
    """Freeze what the strategy freezes and return the optimizer's disjoint param groups.

    ``head``: one group (the fc).  Otherwise, with ``lr_decay``: one group per stage, top first,
    at lr·γᵏ; without: the backbone at ``backbone_lr`` (default lr) and the head at ``lr``.
    Groups hold every parameter the strategy trains, even those gradual unfreezing holds back
    (they have no gradient yet, so the optimizer skips them)."""
    apply_unfreezing(model, strategy)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if strategy == "head":
        return [{"params": [p for _, p in named], "lr": lr, "name": "fc"}]
    if lr_decay is not None:
        groups = [{"params": [p for n, p in named if stage_of(n) == k], "lr": lr * lr_decay ** k, "name": stage}
                  for k, stage in enumerate(STAGES)]
        return [g for g in groups if g["params"]]
    return [{"params": [p for n, p in named if stage_of(n) > 0],
             "lr": backbone_lr if backbone_lr is not None else lr, "name": "backbone"},
            {"params": [p for n, p in named if stage_of(n) == 0], "lr": lr, "name": "fc"}]


def set_train_mode(model, training, strategy, freeze_bn=False, stages=len(STAGES)):
    """``model.train(training)``, then put BatchNorm back in eval mode where the strategy freezes it:
    every BN for ``head`` and ``freeze_bn``, the BNs of the stages gradual unfreezing still holds."""
    model.train(training)
    if training:
        for name, module in model.named_modules():
            if isinstance(module, nn.BatchNorm2d) and (strategy == "head" or freeze_bn or stage_of(name) >= stages):
                module.eval()
    return model


def trainable_counts(model):
    """(trainable, total) parameter counts — trainable = ``requires_grad`` now."""
    params = list(model.parameters())
    return sum(p.data.size for p in params if p.requires_grad), sum(p.data.size for p in params)
