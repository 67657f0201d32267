"""minitune: fine-tuning in deep learning, rebuilt by hand so that it can be read, checked and taught.

The public names mirror PyTorch's: ``minitune.tensor``, ``minitune.no_grad``,
``minitune.nn``, ``minitune.optim``, ``minitune.models.resnet18``, …
"""
from .autograd import *  # noqa: F401,F403
from .autograd import Function, Tensor  # noqa: F401
from .autograd.gradcheck import GradcheckError, gradcheck  # noqa: F401
from .autograd.dtypes import bool_ as bool  # noqa: F401,A001 - torch.bool
from .random import initial_seed, manual_seed  # noqa: F401
from . import io, nn, optim, models, data, metrics  # noqa: E402,F401  (torch.nn, torch.optim, …)

__version__ = "0.1.0"
