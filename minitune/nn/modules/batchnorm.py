"""``BatchNorm2d``: the module holds γ, β and the running statistics; the math is ``F.batch_norm``.

    training:  y = γ (x − μ_B) / √(σ²_B + ε) + β   with the batch statistics over (N, H, W),
               running ← (1 − m) running + m · batch statistic   (unbiased variance), counter += 1
    eval:      y = γ (x − running_mean) / √(running_var + ε) + β   (no state changes)

m = ``momentum`` (0.1), or 1/num_batches_tracked when ``momentum=None`` (a cumulative average).
Freezing γ and β (``requires_grad_(False)``) does not freeze the running statistics: only
``eval()`` does (torch behaves the same; a classic fine-tuning trap).
"""
import numpy as np

from .. import functional as F
from ..module import Module
from ..parameter import Parameter
from ...autograd.tensor import Tensor


class BatchNorm2d(Module):
    """BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True).

    ``bias=False`` (new in torch 2.13, keyword-only) keeps γ but drops β.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None, *,
                 bias=True):
        super().__init__()
        if not isinstance(num_features, int) or isinstance(num_features, bool) or num_features <= 0:
            raise ValueError(f"BatchNorm2d: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm2d: momentum must lie in [0, 1] or be None, got {momentum!r}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = np.dtype(dtype or np.float32)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        """The running statistics reset, and γ ← 1, β ← 0."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            if self.bias is not None:
                self.bias.data[...] = 0

    def forward(self, input):  # noqa: A002
        if not isinstance(input, Tensor) or input.ndim != 4:
            got = f"{input.ndim}D input of shape {input.shape}" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"BatchNorm2d: expected 4D input (N, C, H, W), got {got}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected {self.num_features} channels, got input of shape {input.shape}")
        # m in running ← (1 − m) running + m · batch statistic (torch's exponential_average_factor)
        exponential_average_factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:  # cumulative moving average: the k-th batch gets weight 1/k
                exponential_average_factor = 1.0 / float(self.num_batches_tracked.data)
        # Batch statistics in training, and in eval too when there are no running statistics.
        use_batch_stats = self.training or self.running_mean is None
        # The running statistics go to F.batch_norm to be used (eval) or updated (training, if tracked).
        pass_running_stats = not self.training or self.track_running_stats
        running_mean = self.running_mean if pass_running_stats else None
        running_var = self.running_var if pass_running_stats else None
        return F.batch_norm(input, running_mean, running_var, self.weight, self.bias, use_batch_stats,
                            exponential_average_factor, self.eps)

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, unexpected_keys, error_msgs):
        # Checkpoints from before torch 0.4.1 have no num_batches_tracked: keep the current counter
        # (0 in a fresh model), as torch does for such old checkpoints, instead of reporting it missing.
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, missing_keys, unexpected_keys, error_msgs)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
