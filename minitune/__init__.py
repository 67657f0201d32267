"""minitune: fine-tuning in deep learning, rebuilt by hand so that it can be read, checked and taught.

The public names mirror PyTorch's: ``minitune.tensor``, ``minitune.no_grad``,
``minitune.nn``, ``minitune.optim``, ``minitune.models.resnet18``, …  A torch script runs after
renaming its imports (the README's "Coming from PyTorch" has the table)::

    import minitune as torch
    import minitune.nn as nn
    from minitune.vision import datasets, models, transforms      # torchvision
    from minitune.utils.data import DataLoader                    # torch.utils.data
"""
from .autograd import *  # noqa: F401,F403
from .autograd import Function, Tensor  # noqa: F401
from .autograd.gradcheck import GradcheckError, gradcheck  # noqa: F401
from .autograd.dtypes import bool_ as bool  # noqa: F401,A001 - torch.bool
from .random import Generator, initial_seed, manual_seed, seed  # noqa: F401

__version__ = "0.1.0"

# The higher layers (torch.nn, torch.optim, …) are imported on first use (PEP 562), so that
# ``import minitune.autograd`` loads only the layers below it: no Pillow, and a broken file in
# a higher layer (a student's half-written kernel or optimizer) cannot break the autograd tests.
_SUBMODULES = ("kernels", "nn", "models", "optim", "io", "data", "metrics", "finetune", "course", "cli",
               "utils", "vision", "functional", "cuda", "backends")


def __getattr__(name):
    import importlib  # PEP 562: runs only on the first use of a name below
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in ("save", "load"):  # torch.save / torch.load, from minitune.serialization
        return getattr(importlib.import_module(f"{__name__}.serialization"), name)
    if name in ("set_num_threads", "get_num_threads"):  # torch's names, from minitune.kernels.threads
        return getattr(importlib.import_module(f"{__name__}.kernels.threads"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | {"save", "load", "set_num_threads", "get_num_threads"})
