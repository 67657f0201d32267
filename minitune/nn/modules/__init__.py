"""The layers of ``minitune.nn``, one concept per file."""
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax  # noqa: F401
from .batchnorm import BatchNorm2d  # noqa: F401
from .container import ModuleList, Sequential  # noqa: F401
from .conv import Conv2d  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .linear import Identity, Linear  # noqa: F401
from .loss import CrossEntropyLoss, NLLLoss  # noqa: F401
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d  # noqa: F401
