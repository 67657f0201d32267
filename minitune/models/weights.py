"""Pretrained weights for minitune's models: ``resnet18(weights="imagenet")`` and friends.

``load_pretrained(model, weights, num_classes, arch)``:

* ``weights="builtin"`` loads minitune's own pretrained backbone, ``weights/resnet18-builtin.npz``,
  shipped with the repository: a width-16 ResNet-18 (710 k parameters, 2.9 MB) pretrained by
  ``tools/pretrain.py`` on 50 procedurally drawn classes at 32×32 (its recipe, seed and accuracy
  are in the file's metadata; ``weights/README.md`` gives its sha256).  It is the offline stand-in
  for ImageNet: ``resnet18(weights="builtin")`` builds the width-16 model (``width`` defaults to
  the file's).
* ``weights="imagenet"`` (also torchvision's names ``"IMAGENET1K_V1"`` and ``"DEFAULT"``) loads the
  converted file that ``minitune weights fetch resnet18`` writes (``weights/resnet18-imagenet.npz``,
  see :func:`minitune.io.weights_dir`); if it is missing the error names that command.
* ``weights=PATH`` loads any converted ``.npz`` or any ``torch.save`` file (``.pth``/``.pt``, a bare
  state_dict or a training checkpoint holding one).
* The checks are strict: every key of the model must be in the file and vice versa, with the same
  shapes; all differing keys are listed in one ``ValueError``.  A missing BatchNorm
  ``num_batches_tracked`` (checkpoints from before torch 0.4.1: 102 keys instead of 122) is 0.
* ``num_classes`` different from the file's head (``fc``): the backbone is loaded and the model's
  own, freshly initialized ``num_classes``-way head is kept — the usual start of fine-tuning.  This
  is **printed** on stdout (one line, ``verbose=False`` silences it) rather than warned, because a
  warning shows only once per call site and this is expected, not a problem.

torchvision differs: ``resnet18(weights=..., num_classes=k)`` with k ≠ 1000 raises there; you
replace ``model.fc`` by hand after loading.  Here it is one call.
"""
import collections
import json
import os
import pathlib

import numpy as np

from ..io.convert import read_weights
from ..io.fetch import converted_path, weights_dir

IMAGENET_NAMES = ("imagenet", "IMAGENET1K_V1", "DEFAULT", "ResNet18_Weights.IMAGENET1K_V1")
BUILTIN = "builtin"
BUILTIN_FILE = "resnet18-builtin.npz"
HEADS = {"resnet18": "fc", "resnet34": "fc"}


def builtin_path():
    """The shipped built-in backbone: ``weights/resnet18-builtin.npz`` next to the package (a checkout),
    else in :func:`minitune.io.weights_dir` (e.g. ``$MINITUNE_WEIGHTS_DIR``)."""
    shipped = pathlib.Path(__file__).resolve().parents[2] / "weights" / BUILTIN_FILE
    return shipped if shipped.is_file() else weights_dir() / BUILTIN_FILE


def weights_width(weights, arch="resnet18"):
    """The base width of the model ``weights`` fits: the ``width`` in a converted file's metadata
    (16 for ``"builtin"``), else the channels of its ``conv1.weight``; 64 for ImageNet and ``.pth`` files."""
    if weights is None or (isinstance(weights, str) and weights in IMAGENET_NAMES):
        return 64
    path = resolve_weights(weights, arch)
    if path.suffix != ".npz":
        return 64
    try:
        with np.load(path, allow_pickle=False) as f:
            if "__metadata__" in f.files:
                width = json.loads(str(f["__metadata__"])).get("width")
                if width is not None:
                    return int(width)
            return int(f["conv1.weight"].shape[0]) if "conv1.weight" in f.files else 64
    except (OSError, ValueError, KeyError):
        return 64  # an unreadable file: load_pretrained reports it properly


def resolve_weights(weights, arch="resnet18"):
    """The file that ``weights`` names: the converted ImageNet file for ``"imagenet"``, or the path itself."""
    if isinstance(weights, str) and weights == BUILTIN:
        path = builtin_path()
        if not path.exists():
            raise FileNotFoundError(f"the built-in {arch} backbone is missing at {path}; regenerate it with: "
                                    "python tools/pretrain.py (see weights/README.md)")
        if arch != "resnet18":
            raise ValueError(f"the built-in backbone is a resnet18, not {arch}")
        return path
    if isinstance(weights, str) and weights in IMAGENET_NAMES:
        path = converted_path(arch)
        if not path.exists():
            raise FileNotFoundError(f"ImageNet weights for {arch} not found at {path}; "
                                    f"run: minitune weights fetch {arch}")
        return path
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights must be 'imagenet', 'builtin' or a path to a .npz/.pth file, "
                        f"got {type(weights).__name__}")
    path = pathlib.Path(weights)
    if not path.exists():
        raise FileNotFoundError(f"weights file not found: {path} (use weights='imagenet' for the ImageNet "
                                f"weights, fetched with: minitune weights fetch {arch})")
    return path


def _as_numpy(value):
    data = getattr(value, "data", value)
    return np.asarray(data)


def load_pretrained(model, weights, num_classes=None, arch="resnet18", verbose=True):
    """Load ``weights`` into ``model`` (see the module docstring); returns ``model``.

    ``num_classes`` defaults to the model's own head size."""
    path = resolve_weights(weights, arch)
    state, meta = read_weights(path)
    file_arch = meta.get("architecture")
    if file_arch and file_arch != arch:
        raise ValueError(f"{path} holds {file_arch} weights, not {arch}")
    own = collections.OrderedDict((k, _as_numpy(v)) for k, v in model.state_dict().items())
    head = HEADS.get(arch, "fc")
    head_keys = [k for k in own if k.startswith(head + ".")]
    model_classes = int(own[f"{head}.weight"].shape[0]) if f"{head}.weight" in own else None
    num_classes = model_classes if num_classes is None else int(num_classes)
    if model_classes is not None and num_classes != model_classes:
        raise ValueError(f"num_classes={num_classes} but the model's {head} layer has {model_classes} outputs")
    file_classes = int(state[f"{head}.weight"].shape[0]) if f"{head}.weight" in state else None

    state = collections.OrderedDict(state)
    for key in own:  # checkpoints from before torch 0.4.1 lack BatchNorm's counter
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = np.zeros((), dtype=np.int64)
    replace_head = file_classes is not None and model_classes is not None and file_classes != model_classes
    if replace_head:
        for key in head_keys:
            state[key] = own[key]  # keep the model's freshly initialized head

    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and tuple(np.shape(state[k])) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing from the file: {missing}")
        if unexpected:
            parts.append(f"not in the model: {unexpected}")
        if shapes:
            parts.append(f"shape mismatch: {shapes}")
        raise ValueError(f"{path} does not fit this {arch} model — " + "; ".join(parts))
    model.load_state_dict(state, strict=True)
    if replace_head and verbose:
        print(f"minitune: loaded the {arch} backbone from {path.name}; its {file_classes}-way {head} head was "
              f"replaced by a freshly initialized {model_classes}-way head")
    return model
