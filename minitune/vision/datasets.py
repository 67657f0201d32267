"""``minitune.vision.datasets``: torchvision's ``datasets`` names — ``ImageFolder`` (``minitune/data/folder.py``)."""
from ..data.folder import IMG_EXTENSIONS, ImageFolder, default_loader, pil_loader  # noqa: F401
