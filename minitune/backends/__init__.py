"""``minitune.backends``: the switches torch scripts set (``torch.backends.cudnn.benchmark = True``).

minitune has neither cuDNN nor MPS; the flags exist so those lines run, and change nothing.
"""
from . import cudnn, mps  # noqa: F401
