"""``minitune.vision.models``: torchvision's ``models`` names (the code is ``minitune/models/``).

``resnet18(weights=…)`` as torchvision, and ``resnet18(pretrained=True)`` with torchvision's
deprecation warning; ``ResNet18_Weights.IMAGENET1K_V1`` / ``.DEFAULT`` name the ImageNet weights.
"""
from ..models import BasicBlock, ResNet, resnet18, resnet34  # noqa: F401


class ResNet18_Weights:  # noqa: N801 - torchvision's name
    """torchvision's weight enum, as the names ``resnet18(weights=…)`` accepts."""

    IMAGENET1K_V1 = "IMAGENET1K_V1"
    DEFAULT = "IMAGENET1K_V1"


class ResNet34_Weights:  # noqa: N801 - torchvision's name
    IMAGENET1K_V1 = "IMAGENET1K_V1"
    DEFAULT = "IMAGENET1K_V1"
