"""minitune.models: torchvision's ResNet-18/34, rebuilt on ``minitune.nn``."""
from .resnet import BasicBlock, ResNet, resnet18, resnet34  # noqa: F401
