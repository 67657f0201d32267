"""Loss modules: ``CrossEntropyLoss`` and ``NLLLoss`` hold the options and call the functional form.

The formulas, torch's option semantics and the fused gradient (softmax − one-hot)/N are in
``minitune/nn/functional/loss.py``.
"""
from .. import functional as F
from ..module import Module


class CrossEntropyLoss(Module):
    """``loss(input, target) = F.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)``.

    input: logits (N, C[, d₁, …]); target: class indices (N[, d₁, …]) or probabilities (input's shape).
    ``weight`` is registered as a buffer, as in torch (``state_dict`` key ``weight``).
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__()
        if size_average is not None or reduce is not None:
            raise ValueError("CrossEntropyLoss: size_average and reduce are deprecated; use reduction=")
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"CrossEntropyLoss: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(Module):
    """``loss(input, target) = F.nll_loss(input, target, weight, ignore_index, reduction)`` on log-probabilities."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            raise ValueError("NLLLoss: size_average and reduce are deprecated; use reduction=")
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"NLLLoss: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)
