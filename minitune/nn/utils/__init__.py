"""``torch.nn.utils``: ``fusion`` (a convolution and the batch norm after it folded into one convolution)."""
from . import fusion  # noqa: F401
