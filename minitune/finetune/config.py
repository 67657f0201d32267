"""``FinetuneConfig``: every knob of a fine-tuning run.

The defaults make the main job a real fine-tuning demo offline: the built-in synthetic
``shapes`` task with few images per class (12 train, 50 val per class), from the converted
ImageNet weights when present, else from minitune's built-in pretrained backbone
(``weights/resnet18-builtin.npz``), SGD with momentum 0.9 as the classic transfer-learning tutorial.
"""
import dataclasses
import math
from dataclasses import dataclass

from .strategy import STRATEGIES

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("none", "step", "cosine")
MAX_IMAGE_SIZE = 1024  # a 1024² batch of 16 already takes ~3 GB of activations in ResNet-18


@dataclass
class FinetuneConfig:
    data: str = None  # an image folder with train/ and val/; None = the built-in synthetic set
    weights: str = "auto"  # "auto" (ImageNet when converted, else "builtin"), "imagenet", "builtin", "none", a path
    width: int = None  # base channels from a random initialization (default 64); pretrained: the weights' own
    strategy: str = "full"  # head | full | bitfit | lora (see strategy.py)
    optimizer: str = None  # default: "sgd" from pretrained weights (the tutorial's), "adam" from scratch
    lr: float = None  # default: 1e-3 (ImageNet, or from scratch with adam), 1e-2 from the built-in backbone
    momentum: float = 0.9
    weight_decay: float = 0.0
    backbone_lr: float = None  # the backbone's lr (default: the same as lr)
    lr_decay: float = None  # layer-wise lr decay γ: stage k from the top at lr·γᵏ
    unfreeze_every: int = None  # gradual unfreezing: one more stage every E epochs, top first
    l2sp: tuple = None  # (α, β): α/2‖θ_backbone − θ⁰‖² + β/2‖θ_head‖²
    lora_rank: int = 4
    lora_alpha: float = None  # default: the rank (α/r = 1)
    freeze_bn: bool = False  # keep BatchNorm running statistics frozen while weights train
    schedule: str = "none"
    step_size: int = 7
    gamma: float = 0.1
    epochs: int = None  # default: 8 on the synthetic set, 5 on a folder
    batch_size: int = 16
    image_size: int = None  # default: the built-in backbone's 32, or 64 on the synthetic set; 224 on a folder
    augment: bool = None  # default: on for a folder except with "head" (which then caches features); off on synthetic
    workers: int = 2
    seed: int = 0
    out: str = None  # default: runs/finetune, runs/finetune-2, … (the first that is free)
    overwrite: bool = False  # allow --out to name a folder that holds a finished run
    resume: str = None  # a previous run's output folder: continue from its state.npz
    synthetic_train_per_class: int = 12
    synthetic_val_per_class: int = 50
    progress: bool = True

    def resolved(self, weights_resolved=None):
        """A copy with every ``None`` default filled in, after checking the values.

        ``weights_resolved`` ("imagenet", "builtin", "none" or a path) picks the defaults that
        depend on the starting weights; ``fit`` passes what ``auto`` became."""
        c = dataclasses.replace(self)
        for name, allowed in (("strategy", STRATEGIES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
            if getattr(c, name) not in allowed and not (name == "optimizer" and c.optimizer is None):
                raise ValueError(f"--{name} must be one of {', '.join(allowed)}, got {getattr(c, name)!r}")
        synthetic = c.data is None
        w = weights_resolved or c.weights
        if c.optimizer is None:
            # From scratch, SGD at a fine-tuning lr barely moves in a few epochs; Adam does.
            c.optimizer = "adam" if w in (None, "none") else "sgd"
        if c.lr is None:
            c.lr = 1e-2 if (w == "builtin" and c.optimizer == "sgd") else 1e-3
        if c.epochs is None:
            c.epochs = 8 if synthetic else 5
        if c.image_size is None:
            c.image_size = (32 if w == "builtin" else 64) if synthetic else 224
        if c.augment is None:
            c.augment = not synthetic and c.strategy != "head"
        _check_numbers(c)
        return c

    def to_dict(self):
        return dataclasses.asdict(self)


def _flag(name):
    return "--" + name.replace("_", "-")


def _check_numbers(c):
    """ValueError naming the flag, what is expected and what was given."""
    for name in ("lr", "backbone_lr", "momentum", "weight_decay", "gamma", "lr_decay", "lora_alpha"):
        value = getattr(c, name)
        if value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"{_flag(name)} must be a finite number, got {value!r}")
        if value < 0 or (value == 0 and name in ("lr", "lr_decay", "lora_alpha")):
            raise ValueError(f"{_flag(name)} must be {'positive' if name in ('lr', 'lr_decay') else '>= 0'}, "
                             f"got {value!r}")
    for name in ("epochs", "batch_size", "image_size", "step_size", "lora_rank", "synthetic_train_per_class",
                 "synthetic_val_per_class", "unfreeze_every", "width"):
        value = getattr(c, name)
        if value is None and name in ("unfreeze_every", "width"):
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{_flag(name)} must be positive, got {value}")
    if c.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {c.workers}")
    if not 32 <= c.image_size <= MAX_IMAGE_SIZE:
        raise ValueError(f"--image-size must be between 32 (ResNet-18 has 5 stride-2 stages) and {MAX_IMAGE_SIZE}, "
                         f"got {c.image_size}")
    if c.l2sp is not None:
        if len(c.l2sp) != 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in c.l2sp):
            raise ValueError(f"--l2sp must be two finite numbers >= 0 (alpha,beta), got {c.l2sp!r}")
        if c.weights == "none":
            raise ValueError("--l2sp pulls toward the pretrained weights: it needs --weights other than none")
    if c.strategy == "head" and c.unfreeze_every:
        raise ValueError("--unfreeze-every needs a strategy that trains the backbone (full, bitfit, lora), not head")
    if c.backbone_lr is not None and c.lr_decay is not None:
        raise ValueError("--backbone-lr and --lr-decay both set the backbone's learning rates: choose one")
