"""Checkpoints of a fine-tuning run.

* ``best.npz`` / ``last.npz``: the model in minitune's converted weight format (torch's key
  names + metadata: architecture, classes, input transform), so ``minitune weights export``
  turns them into a ``.pth`` that torchvision loads, and ``--weights``/``--checkpoint`` read them.
* ``state.npz``: what a resumed run needs besides the model — optimizer and scheduler
  state, the epoch counter, the history and the best score.  Nested Python state is stored
  as JSON with its arrays beside it, so the file loads without pickle.
"""
import json
import os

import numpy as np

from ..autograd import Tensor
from ..io.atomic import atomic_write
from ..io.npz_format import load_converted, save_converted

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
    return save_converted(path, model.state_dict(), metadata)


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
            arrays = [f[f"a{i}"] for i in range(len(f.files) - 1)]
    except Exception as exc:  # a truncated or foreign file
        raise ValueError(f"{path}: unreadable training state ({type(exc).__name__}: {exc})") from None
    return _decode(json.loads(text), arrays)
