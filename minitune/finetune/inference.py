"""Load a fine-tuned checkpoint for evaluation and prediction."""
import os

from ..data import ImageFolder, pil_loader
from ..models import resnet18
from .checkpoint import load_model_file
from .config import MAX_IMAGE_SIZE
from .datasets import eval_transform
from .features import fold_batch_norms


def load_checkpoint_model(path):
    """(model in eval mode, class names, eval transform) from a best.npz/last.npz checkpoint.

    The model is for inference only: its batch norms are folded into the convolutions before them
    (``fold_batch_norms``: the same outputs to float32 rounding, one pass per layer fewer)."""
    state, meta = load_model_file(path)
    classes = list(meta["categories"])
    if meta.get("architecture", "resnet18") != "resnet18":
        raise ValueError(f"{path}: architecture {meta.get('architecture')!r} is not supported; expected resnet18")
    fc = state.get("fc.weight")
    if fc is None or fc.shape[0] != len(classes):
        raise ValueError(f"{path}: the head has {None if fc is None else fc.shape[0]} outputs but the metadata "
                         f"names {len(classes)} classes")
    model = resnet18(num_classes=len(classes), width=int(state["conv1.weight"].shape[0]))  # 16: the built-in backbone
    model.load_state_dict(state)
    model.eval()
    t = meta.get("transforms", {})
    # Checked before a Resize(10**6) allocates terabytes.  The resize may exceed the crop
    # (256 for a 224 crop), hence the larger limit for it.
    for name, limit in (("crop_size", MAX_IMAGE_SIZE), ("resize_size", 2 * MAX_IMAGE_SIZE)):
        value = t.get(name)
        if value is not None and (type(value) is not int or not 1 <= value <= limit):
            raise ValueError(f"{path}: transforms.{name} is {value!r:.40}; expected an int in [1, {limit}]")
    transform = eval_transform(t.get("crop_size", 224), t.get("mean"), t.get("std"), t.get("resize_size"))
    return fold_batch_norms(model), classes, transform


def image_folder_for(data, classes, transform):
    """``data``/val when it exists, else ``data`` itself, checked against the checkpoint's classes."""
    if not os.path.isdir(data):
        raise FileNotFoundError(f"data folder {data} does not exist")
    root = os.path.join(data, "val") if os.path.isdir(os.path.join(data, "val")) else data
    folder = ImageFolder(root, transform=transform)
    if folder.classes != classes:
        raise ValueError(f"the checkpoint's classes {classes} do not fit the folder's classes {folder.classes} ({root})")
    return folder


def load_image(path, transform):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image {path} does not exist")
    try:
        img = pil_loader(path)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable image ({type(exc).__name__})") from None
    return transform(img)
