"""``minitune.vision.transforms``: torchvision's ``transforms`` names (the code is ``minitune/data/transforms.py``)."""
from ..data.transforms import *  # noqa: F401,F403
from ..data.transforms import InterpolationMode  # noqa: F401
