"""minitune's converted weight format: one ``.npz`` holding a state_dict and its metadata.

* Every entry is an array keyed by torch's state_dict name (``conv1.weight``, ``bn1.running_mean``,
  …): floating arrays as float32, integer ones as int64 (BatchNorm's ``num_batches_tracked``),
  booleans as bool.
* The reserved key ``__metadata__`` holds a 0-d unicode array: a JSON object with at least
  ``format`` (``"minitune-weights"``), ``format_version`` (1) and ``keys`` (the state_dict order,
  which a zip does not promise to keep).  The converter adds ``architecture``, ``num_classes``,
  ``num_params``, ``source`` (file name, sha256, url), ``transforms`` (resize 256 → center crop 224,
  mean/std) and ``categories`` (class names).
* Loading uses ``np.load(..., allow_pickle=False)``: a converted file cannot carry code.
"""
import collections
import json
import os
import zipfile

import numpy as np

from .atomic import atomic_write

METADATA_KEY = "__metadata__"
FORMAT = "minitune-weights"
FORMAT_VERSION = 1
IMAGENET_TRANSFORMS = {  # torchvision transforms/_presets.py ImageClassification(crop_size=224)
    "resize_size": 256, "crop_size": 224, "interpolation": "bilinear",
    "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
}


def _stored_array(name, value):
    array = np.asarray(getattr(value, "data", value)) if not isinstance(value, np.ndarray) else value
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "b":
        return array
    raise TypeError(f"state_dict entry {name!r} has dtype {array.dtype}; expected a float, int or bool array")


def save_converted(path, state_dict, metadata=None):
    """Write ``state_dict`` (name → array or Tensor) and ``metadata`` (a JSON-able dict) to ``path``.

    Written atomically (temporary file in the same folder, then renamed)."""
    path = os.fspath(path)
    if METADATA_KEY in state_dict:
        raise ValueError(f"{METADATA_KEY!r} is reserved for metadata and cannot be a state_dict key")
    arrays = collections.OrderedDict((k, _stored_array(k, v)) for k, v in state_dict.items())
    meta = dict(metadata or {})
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, keys=list(arrays))
    text = json.dumps(meta, sort_keys=True)
    with atomic_write(path) as fh:
        np.savez(fh, **{METADATA_KEY: np.array(text)}, **arrays)
    return path


def load_converted(path):
    """``(state_dict, metadata)`` from a converted ``.npz``; ValueError naming the file if it is not one."""
    path = os.fspath(path)
    if os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a .npz weights file (convert a .pth with: minitune weights convert IN.pth OUT.npz)")
    try:
        with np.load(path, allow_pickle=False) as f:
            if METADATA_KEY not in f.files:
                raise ValueError(f"{path}: no {METADATA_KEY} entry, so not a minitune weights file "
                                 "(convert a .pth with: minitune weights convert IN.pth OUT.npz)")
            meta = json.loads(str(f[METADATA_KEY]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError(f"{path}: metadata does not say format {FORMAT!r}")
            if meta.get("format_version", 0) > FORMAT_VERSION:
                raise ValueError(f"{path}: format version {meta['format_version']} is newer than this minitune "
                                 f"reads ({FORMAT_VERSION})")
            names = [k for k in f.files if k != METADATA_KEY]
            order = [k for k in meta.get("keys", []) if k in names]
            order += [k for k in names if k not in order]
            state = collections.OrderedDict((k, f[k]) for k in order)
    except (zipfile.BadZipFile, EOFError, json.JSONDecodeError, KeyError) as exc:
        raise ValueError(f"{path}: truncated or corrupt weights file ({type(exc).__name__}: {exc})") from None
    except ValueError as exc:
        if str(exc).startswith(path):
            raise
        raise ValueError(f"{path}: unreadable weights file ({exc})") from None
    return state, meta


def num_params(state_dict):
    """Elements in the learnable tensors: every floating entry except BatchNorm's running statistics
    (``running_mean``/``running_var``) — torchvision's ``num_params`` counts ``model.parameters()``."""
    return int(sum(np.asarray(v).size for k, v in state_dict.items()
                   if np.asarray(v).dtype.kind == "f" and not k.endswith(("running_mean", "running_var"))))
