"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its learnable weights."""
import numpy as np

from ..autograd.dtypes import to_array
from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and is picked up by ``Module.parameters()``."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.zeros((0,), dtype=np.float32)
        super().__init__(to_array(data))
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
