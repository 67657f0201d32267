r"""``AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter), torch's default ``weight_decay=1e-2``.

The update is Adam's (see ``adam.py``) with the decay applied to the weights *first*, scaled by the
learning rate, and kept out of the moments::

    θ ← θ·(1 − γλ)                                    # before m and v are updated; g is not decayed
    m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²
    θ ← θ − (γ/(1−β₁ᵗ)) · m / (√v̄/√(1−β₂ᵗ) + ε)

Compare Adam's ``weight_decay``, which adds λθ to g, so the penalty is divided by √v̂ like any
gradient: large-gradient weights are barely decayed.  AdamW decays every weight by the same factor.
As in torch, ``AdamW`` is ``Adam`` with ``decoupled_weight_decay=True``.
"""
from .adam import Adam


class AdamW(Adam):
    """Implements AdamW: Adam whose weight decay multiplies the weights by (1 − lr·weight_decay) first."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def _after_load_state_dict(self):
        super()._after_load_state_dict()
        for group in self.param_groups:  # as torch's AdamW.__setstate__: always decoupled
            group["decoupled_weight_decay"] = True
