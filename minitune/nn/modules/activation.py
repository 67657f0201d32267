"""``ReLU``: y = max(x, 0), dL/dx = g · [x > 0] (the op and its gradient live in ``F.relu``)."""
from .. import functional as F
from ..module import Module


class ReLU(Module):
    """y = max(x, 0) elementwise.  ``inplace`` is passed on to ``F.relu``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""
