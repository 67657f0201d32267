"""``minitune.functional``: what torch scripts import from ``torch.functional`` — ``F`` (torch's module
imports ``torch.nn.functional as F``, and ``from torch.functional import F`` is seen in tutorials).

This module sits above ``nn`` (it only re-exports it); ``import minitune`` loads it on first use.
"""
from .nn import functional as F  # noqa: F401
