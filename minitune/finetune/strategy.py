"""Fine-tuning strategies: which parameters train, at which learning rate, and BatchNorm's mode.

``head``: the backbone is frozen (``requires_grad_(False)``) *and* its BatchNorm layers stay
in eval mode — ``requires_grad=False`` alone does not stop a train-mode forward from
updating running statistics, the classic "my frozen feature extractor still changes" trap.
Only the new fc trains.

``full``: every parameter trains, in two param groups — backbone at ``backbone_lr``, head at
``lr`` (a smaller backbone lr keeps the pretrained features while the new head catches up).
With ``freeze_bn`` the BatchNorm layers stay in eval mode: weights train, running
statistics keep their pretrained values (useful with small batches).
"""
from .. import nn


def param_groups(model, strategy, lr, backbone_lr=None):
    """Freeze what the strategy freezes and return the optimizer's disjoint param groups."""
    head = list(model.fc.parameters())
    head_ids = {id(p) for p in head}
    backbone = [p for p in model.parameters() if id(p) not in head_ids]
    if strategy == "head":
        for p in backbone:
            p.requires_grad_(False)
        for p in head:
            p.requires_grad_(True)
        return [{"params": head, "lr": lr}]
    model.requires_grad_(True)
    return [{"params": backbone, "lr": backbone_lr if backbone_lr is not None else lr},
            {"params": head, "lr": lr}]


def set_train_mode(model, training, strategy, freeze_bn=False):
    """``model.train(training)``, then put BatchNorm back in eval mode where the strategy freezes it."""
    model.train(training)
    if training and (strategy == "head" or freeze_bn):
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
    return model
