"""Neural-network building blocks: ``Module``, layers, losses, ``init``, ``functional`` and ``utils``."""
from . import functional, init, utils  # noqa: F401
from .module import IncompatibleKeys, Module, StateDictError  # noqa: F401
from .modules import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm2d, Conv2d,  # noqa: F401
                      CrossEntropyLoss, Dropout, Flatten, Identity, Linear, LogSoftmax, MaxPool2d, ModuleList,
                      NLLLoss, ReLU, Sequential, Sigmoid, Softmax)
from .parameter import Parameter  # noqa: F401
