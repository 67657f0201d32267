"""``FinetuneConfig``: every knob of a fine-tuning run, with the defaults of the classic
transfer-learning tutorial (SGD, lr 0.001, momentum 0.9)."""
import dataclasses
from dataclasses import dataclass

STRATEGIES = ("head", "full")
OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("none", "step", "cosine")


@dataclass
class FinetuneConfig:
    data: str = None  # an image folder with train/ and val/; None = the built-in synthetic set
    weights: str = "auto"  # "auto" (ImageNet when converted, else random), "imagenet", "none", or a path
    strategy: str = "full"  # "head": frozen backbone, new fc; "full": every layer
    optimizer: str = None  # default: "sgd" from pretrained weights (the tutorial's), "adam" from scratch
    lr: float = None  # default: 1e-3 (the tutorial's for sgd with momentum 0.9; Adam's default)
    momentum: float = 0.9
    weight_decay: float = 0.0
    backbone_lr: float = None  # "full" only: the backbone's lr (default: the same as lr)
    freeze_bn: bool = False  # "full" only: keep BatchNorm running statistics frozen while weights train
    schedule: str = "none"
    step_size: int = 7
    gamma: float = 0.1
    epochs: int = None  # default: 5
    batch_size: int = 16
    image_size: int = None  # default: 64 on the synthetic set, 224 on a folder
    augment: bool = None  # default: on for "full", off for "head" (which then caches backbone features)
    workers: int = 2
    seed: int = 0
    out: str = "runs/finetune"
    resume: str = None  # a previous run's output folder: continue from its last checkpoint
    synthetic_train_per_class: int = 80
    synthetic_val_per_class: int = 30
    progress: bool = True

    def resolved(self):
        """A copy with every ``None`` default filled in, after checking the choices."""
        c = dataclasses.replace(self)
        for name, allowed in (("strategy", STRATEGIES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
            if getattr(c, name) not in allowed and not (name == "optimizer" and c.optimizer is None):
                raise ValueError(f"--{name} must be one of {', '.join(allowed)}, got {getattr(c, name)!r}")
        synthetic = c.data is None
        if c.lr is None:
            c.lr = 1e-3
        if c.epochs is None:
            c.epochs = 5
        if c.image_size is None:
            c.image_size = 64 if synthetic else 224
        if c.augment is None:
            c.augment = c.strategy == "full"
        for name in ("lr", "epochs", "batch_size", "image_size"):
            if not getattr(c, name) > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(c, name)}")
        if c.workers < 0:
            raise ValueError(f"--workers must be >= 0, got {c.workers}")
        if c.image_size < 32:
            raise ValueError(f"--image-size must be at least 32 for ResNet-18 (5 stride-2 stages), got {c.image_size}")
        return c

    def to_dict(self):
        return dataclasses.asdict(self)
