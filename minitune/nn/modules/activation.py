"""Activation layers: ``ReLU``, ``Sigmoid``, ``Softmax``, ``LogSoftmax`` (the ops and their gradients live in ``F``).

    ReLU: y = max(x, 0);   Sigmoid: y = 1 / (1 + e⁻ˣ);   Softmax: yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``dim``
"""
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


class Sigmoid(Module):
    """y = σ(x) elementwise."""

    def forward(self, input):  # noqa: A002
        return F.sigmoid(input)


class Softmax(Module):
    """softmax along ``dim`` (None: torch's implicit choice, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along ``dim`` (None: torch's implicit choice, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
