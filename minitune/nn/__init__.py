"""Neural-network building blocks: ``Module``, layers, losses, ``init`` and ``functional``."""
from . import functional, init  # noqa: F401
from .module import IncompatibleKeys, Module, StateDictError  # noqa: F401
from .modules import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, CrossEntropyLoss, Dropout,  # noqa: F401
                      Flatten, Identity, Linear, MaxPool2d, ModuleList, NLLLoss, ReLU, Sequential)
from .parameter import Parameter  # noqa: F401
