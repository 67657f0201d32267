"""Convert between torch checkpoints and minitune's ``.npz`` weights; fetch the ImageNet ResNet-18.

``convert(IN.pth, OUT.npz)`` reads a ``torch.save`` file (any layout, a bare state_dict or a
checkpoint holding one), checks that its keys are a ResNet's, and writes the ``.npz`` of
:mod:`minitune.io.npz_format` with metadata: architecture, num_classes, num_params, the source
file's name and sha256, the eval transform (resize 256, center crop 224, ImageNet mean/std — the
one every torchvision ImageNet classifier uses) and, for a 1000-way head, the ImageNet class names.
``export(IN.npz, OUT.pth)`` writes the state_dict back as a zip ``.pth`` that torch loads.
"""
import os
import pathlib

import numpy as np

from . import fetch as _fetch
from .imagenet_classes import IMAGENET_CATEGORIES
from .npz_format import IMAGENET_TRANSFORMS, load_converted, num_params, save_converted
from .torch_reader import load_state_dict as load_torch_state_dict
from .torch_writer import save as save_torch

RESNET_LAYERS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}
BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def resnet_keys(arch="resnet18", num_batches_tracked=True):
    """torchvision's state_dict names for a BasicBlock ResNet, in order (122 for ResNet-18, 102 without
    BatchNorm's ``num_batches_tracked``)."""
    if arch not in RESNET_LAYERS:
        raise ValueError(f"unknown architecture {arch!r}; known: {sorted(RESNET_LAYERS)}")
    bn = [k for k in BN_KEYS if num_batches_tracked or k != "num_batches_tracked"]
    keys = ["conv1.weight"] + [f"bn1.{k}" for k in bn]
    for stage, blocks in enumerate(RESNET_LAYERS[arch], start=1):
        for b in range(blocks):
            p = f"layer{stage}.{b}"
            keys += [f"{p}.conv1.weight"] + [f"{p}.bn1.{k}" for k in bn]
            keys += [f"{p}.conv2.weight"] + [f"{p}.bn2.{k}" for k in bn]
            if stage > 1 and b == 0:
                keys += [f"{p}.downsample.0.weight"] + [f"{p}.downsample.1.{k}" for k in bn]
    return keys + ["fc.weight", "fc.bias"]


def detect_architecture(state_dict):
    """``'resnet18'``/``'resnet34'`` if the keys are exactly that ResNet's (with or without the BN counters), else None."""
    names = set(state_dict)
    for arch in RESNET_LAYERS:
        if names in (set(resnet_keys(arch)), set(resnet_keys(arch, False))):
            return arch
    return None


def read_weights(path):
    """``(state_dict, metadata)`` from a converted ``.npz`` or any ``torch.save`` file (metadata ``{}``)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such weights file: {path}")
    if not os.path.isfile(path):  # a folder, or a FIFO (opening it would block)
        raise ValueError(f"{path}: not a regular file")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if path.endswith(".npz") and head == b"PK\x03\x04":
        try:
            return load_converted(path)
        except ValueError:
            pass  # a zip .pth named .npz: try it as a torch file below
    return load_torch_state_dict(path), {}


def imagenet_metadata(arch, state_dict, source=None, sha256=None, url=None, categories="auto"):
    """The metadata that :func:`convert` stores (see the module docstring)."""
    num_classes = int(state_dict["fc.weight"].shape[0]) if "fc.weight" in state_dict else None
    meta = {"architecture": arch, "num_classes": num_classes, "num_params": num_params(state_dict),
            "transforms": dict(IMAGENET_TRANSFORMS),
            "source": {"file": os.path.basename(source) if source else None, "sha256": sha256, "url": url}}
    if categories == "imagenet" or (categories == "auto" and num_classes == len(IMAGENET_CATEGORIES)):
        if num_classes != len(IMAGENET_CATEGORIES):
            raise ValueError(f"the ImageNet class names need a 1000-way head, this one has {num_classes}")
        meta["categories"] = list(IMAGENET_CATEGORIES)
        meta["dataset"] = "ImageNet-1K"
    elif isinstance(categories, (list, tuple)):
        if len(categories) != num_classes:
            raise ValueError(f"{len(categories)} class names for a {num_classes}-way head")
        meta["categories"] = list(categories)
    if arch in _fetch.PRETRAINED and url == _fetch.PRETRAINED[arch]["url"]:
        meta["metrics"] = _fetch.PRETRAINED[arch]["metrics"]
        meta["recipe"] = _fetch.PRETRAINED[arch]["recipe"]
    return meta


def convert(src, dst, arch=None, categories="auto", url=None):
    """Read ``src`` (``.pth``/``.pt`` in any torch layout, or ``.npz``) and write the converted ``dst`` (``.npz``)."""
    state, old_meta = read_weights(src)
    found = detect_architecture(state)
    arch = arch or old_meta.get("architecture") or found
    if arch is None:
        raise ValueError(f"{src}: the keys are not a ResNet-18's (e.g. {list(state)[:3]}); pass --arch to say what it is")
    if arch in RESNET_LAYERS and found != arch:
        expected = set(resnet_keys(arch))
        missing = sorted(expected - set(state) - {k for k in expected if k.endswith("num_batches_tracked")})
        extra = sorted(set(state) - expected)
        raise ValueError(f"{src}: not a {arch} state_dict (missing {missing[:5]}, unexpected {extra[:5]})")
    source_sha = _fetch.sha256_file(src)
    if url is None and arch in _fetch.PRETRAINED:
        known = _fetch.PRETRAINED[arch]["url"]
        if source_sha.startswith(_fetch.hash_prefix(known)):
            url = known  # the torchvision file itself, e.g. placed by hand
    meta = imagenet_metadata(arch, state, source=str(src), sha256=source_sha, url=url, categories=categories)
    if old_meta.get("categories") and "categories" not in meta:
        meta["categories"] = old_meta["categories"]
    save_converted(dst, state, meta)
    return pathlib.Path(dst), meta


def export(src, dst):
    """Write the state_dict of ``src`` (a converted ``.npz`` or a torch file) as a zip ``.pth`` for ``torch.load``."""
    state, _ = read_weights(src)
    return pathlib.Path(save_torch(state, dst))


def describe(path):
    """A dict for ``minitune weights info``: architecture, parameter count, keys with shapes, sha256, metadata."""
    state, meta = read_weights(path)
    return {
        "file": os.fspath(path),
        "sha256": _fetch.sha256_file(path),
        "architecture": meta.get("architecture") or detect_architecture(state) or "unknown",
        "num_params": num_params(state),
        "num_keys": len(state),
        "keys": [(k, tuple(np.shape(v)), str(np.asarray(v).dtype)) for k, v in state.items()],
        "metadata": {k: v for k, v in meta.items() if k != "keys"},
    }


def fetch_pretrained(arch="resnet18", url=None, directory=None, progress=True, force=False):
    """Download torchvision's ImageNet weights for ``arch`` (hash-checked) and convert them.

    ``url`` defaults to ``$MINITUNE_WEIGHTS_URL`` or torchvision's URL; ``directory`` to :func:`weights_dir`.
    A ``.pth`` already there whose sha256 matches is not downloaded again.  Returns the ``.npz`` path."""
    if arch not in _fetch.PRETRAINED:
        raise ValueError(f"no ImageNet weights are known for {arch!r}; known: {sorted(_fetch.PRETRAINED)}")
    url = url or os.environ.get(_fetch.URL_ENV) or _fetch.PRETRAINED[arch]["url"]
    folder = pathlib.Path(directory) if directory else _fetch.weights_dir()
    name = os.path.basename(url.split("?")[0]) or f"{arch}.pth"
    pth = folder / name
    prefix = _fetch.hash_prefix(url)
    dst = folder / _fetch.PRETRAINED[arch]["converted"]
    if force or not pth.exists() or (prefix is not None and not _fetch.sha256_file(pth).startswith(prefix)):
        _fetch.download(url, pth, progress=progress, arch=arch, convert_to=dst)
    convert(pth, dst, arch=arch, categories="auto", url=url)
    return dst
