"""``minitune.vision``: torchvision's namespace over minitune — ``datasets``, ``transforms``, ``models``, ``utils``.

A torchvision script converts by renaming its imports::

    import torchvision                              →  from minitune import vision as torchvision
    from torchvision import datasets, models, transforms  →  from minitune.vision import datasets, models, transforms
    import torchvision.transforms as T              →  import minitune.vision.transforms as T

Each submodule re-exports minitune's own implementation (``minitune.data``, ``minitune.models``);
this package adds no behaviour of its own except ``utils.make_grid``.
"""
from . import datasets, models, transforms, utils  # noqa: F401
