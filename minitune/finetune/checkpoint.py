"""Checkpoints of a fine-tuning run.

* ``best.npz``: the best epoch's model in minitune's converted weight format (torch's key
  names + metadata: architecture, width, classes, input transform; LoRA adapters merged into
  the weights), so ``minitune weights export`` turns it into a ``.pth`` that torchvision loads,
  and ``--weights``/``--checkpoint`` read it.
* ``state.npz``: everything a resumed run needs, as of the last completed epoch — the model
  (with its LoRA adapters unmerged), optimizer and scheduler state, the epoch counter, the
  history and the best score.  Nested Python state is stored as JSON with its arrays beside
  it, so the file loads without pickle.  (No ``last.npz``: the last model is in ``state.npz``;
  one resumable state and one model, not three copies.)
"""
import json
import os

import numpy as np

from ..autograd import Tensor
from ..io.atomic import atomic_write
from ..io.npz_format import load_converted, save_converted
from .lora import merged_state_dict

STATE_KEY = "__state__"


def model_metadata(model, classes, image_size, mean, std, resize_size=None, extra=None):
    meta = {
        "architecture": getattr(model, "arch", "resnet18"),
        "num_classes": len(classes),
        "categories": list(classes),
        "transforms": {"resize_size": resize_size or int(round(image_size * 256 / 224)), "crop_size": image_size,
                       "interpolation": "bilinear", "mean": list(mean), "std": list(std)},
    }
    meta.update(extra or {})
    return meta


def save_model(path, model, metadata):
    """The model's plain ResNet-18 state_dict (LoRA merged) and ``metadata``, atomically."""
    return save_converted(path, merged_state_dict(model), metadata)


def load_model_file(path):
    """(state_dict, metadata) of a checkpoint, with a clear error for anything else."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    state, meta = load_converted(path)
    if not meta.get("categories"):
        raise ValueError(f"{path}: checkpoint has no class names in its metadata; "
                         "use a best.npz/last.npz written by minitune finetune")
    return state, meta


def _encode(obj, arrays):
    if isinstance(obj, Tensor):
        arrays.append(np.asarray(obj.data))
        return {"__tensor__": len(arrays) - 1}
    if isinstance(obj, np.ndarray):
        arrays.append(obj)
        return {"__array__": len(arrays) - 1}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a training-state file")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return Tensor(np.array(arrays[obj["__tensor__"]]))
        if "__array__" in obj:
            return np.array(arrays[obj["__array__"]])
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["__dict__"]}
    return obj


def save_state(path, state):
    """Write a nested dict of numbers, strings, lists, dicts and arrays/Tensors; atomic."""
    arrays = []
    text = json.dumps(_encode(state, arrays))
    with atomic_write(path) as fh:
        np.savez(fh, **{STATE_KEY: np.array(text)}, **{f"a{i}": a for i, a in enumerate(arrays)})
    return path


def load_state(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"training state {path} does not exist (is this a minitune finetune output folder?)")
    try:
        with np.load(path, allow_pickle=False) as f:
            text = str(f[STATE_KEY])
            arrays = {name: f[name] for name in f.files if name != STATE_KEY}
        tree = json.loads(text)
    except Exception as exc:  # a truncated or foreign file
        raise ValueError(f"{path}: unreadable training state ({type(exc).__name__}: {str(exc)[:200]})") from None
    return _decode(tree, _Arrays(arrays, path))


class _Arrays:
    """``arrays[i]`` → the array stored as ``a{i}``; a missing one is a ValueError naming it."""

    def __init__(self, arrays, path):
        self.arrays, self.path = arrays, path

    def __getitem__(self, i):
        if not isinstance(i, int) or f"a{i}" not in self.arrays:
            raise ValueError(f"{self.path}: training state is incomplete: array 'a{str(i)[:20]}' is missing "
                             "(a damaged or hand-edited file; start a new run)")
        return self.arrays[f"a{i}"]
