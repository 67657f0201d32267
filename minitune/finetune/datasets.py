"""Training and validation sets for a run: an image folder (``train/``, ``val/``) or the
built-in synthetic set, with the transforms the pretrained weights expect.

ImageNet weights expect x in [0, 1] normalized by mean (0.485, 0.456, 0.406) and std
(0.229, 0.224, 0.225) — not 0.5/0.5, which feeds the frozen BatchNorm statistics inputs at
about half their expected scale.  Training augments with the tutorial's RandomResizedCrop and
horizontal flip; validation resizes the shorter side to size·256/224 and center-crops.
"""
import os

from ..data import ImageFolder, check_same_classes
from ..data import transforms as T
from ..data.synthetic import synthetic_train_val

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def eval_transform(image_size, mean=IMAGENET_MEAN, std=IMAGENET_STD, resize_size=None):
    resize = resize_size or int(round(image_size * 256 / 224))
    return T.Compose([T.Resize(resize), T.CenterCrop(image_size), T.ToTensor(), T.Normalize(mean, std)])


def train_transform(image_size, augment, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    if not augment:
        return eval_transform(image_size, mean, std)
    return T.Compose([T.RandomResizedCrop(image_size), T.RandomHorizontalFlip(), T.ToTensor(),
                      T.Normalize(mean, std)])


def synthetic_transform(augment, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    steps = [T.RandomHorizontalFlip()] if augment else []
    return T.Compose(steps + [T.ToTensor(), T.Normalize(mean, std)])


def make_datasets(config):
    """(train, val, classes, description) for ``config`` (a resolved FinetuneConfig)."""
    if config.data is None:
        train, val = synthetic_train_val(config.synthetic_train_per_class, config.synthetic_val_per_class,
                                         image_size=config.image_size, task="shapes", seed=config.seed)
        train.transform = synthetic_transform(config.augment)
        val.transform = synthetic_transform(False)
        desc = (f"built-in synthetic 'shapes' task (not among the built-in backbone's 50 pretraining classes): "
                f"{len(train)} train / {len(val)} val images, {len(train.classes)} classes, "
                f"{config.image_size}x{config.image_size}")
        return train, val, list(train.classes), desc
    root = config.data
    if not os.path.isdir(root):
        raise FileNotFoundError(f"data folder {root} does not exist")
    for split in ("train", "val"):
        if not os.path.isdir(os.path.join(root, split)):
            raise FileNotFoundError(f"data folder {root} has no {split}/ sub-folder "
                                    "(expected DIR/train/<class>/*.jpg and DIR/val/<class>/*.jpg)")
    train = ImageFolder(os.path.join(root, "train"), transform=train_transform(config.image_size, config.augment))
    val = ImageFolder(os.path.join(root, "val"), transform=eval_transform(config.image_size))
    check_same_classes(train, val)
    desc = f"{root}: {len(train)} train / {len(val)} val images, classes {', '.join(train.classes)}"
    return train, val, list(train.classes), desc
