"""``Dropout``: inverted dropout while training, the identity in eval mode (see ``F.dropout``)."""
from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Training: y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p).  Eval: y = x."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
