"""Neural-network building blocks: ``Module``, layers, losses, ``init`` and ``functional``."""
from .parameter import Parameter  # noqa: F401
