r"""``SGD``: stochastic gradient descent with torch's momentum buffer, weight decay, Nesterov and maximize.

The update, exactly as implemented (torch's ``_single_tensor_sgd``; γ = lr, μ = momentum,
τ = dampening, λ = weight_decay), for every parameter θ whose gradient is not None::

    g ← −∇f(θ) if maximize else ∇f(θ)        # maximize flips the sign first
    if λ ≠ 0:  g ← g + λ·θ                     # L2 decay, added before momentum (so it gets momentum)
    if μ ≠ 0:
        b ← g                    on the first step (a copy: no (1−τ), no zero start)
        b ← μ·b + (1−τ)·g        afterwards       # state["momentum_buffer"]
        g ← g + μ·b  if nesterov else  b
    θ ← θ − γ·g

Relation to the textbook ("classical", heavy-ball) momentum, written θ_{t+1} = θ_t − η∇L(θ_t) + αΔθ_t
with Δθ_t = θ_t − θ_{t−1}; with step t = 1, 2, … taking θₜ₋₁ to θₜ and gₜ = ∇L(θₜ₋₁):

    θₜ = θₜ₋₁ − ηₜ gₜ + α(θₜ₋₁ − θₜ₋₂),   θ₋₁ = θ₀ (no momentum before the first step).

Write uₜ = θₜ₋₁ − θₜ for the step taken (u₀ = 0).  Classical: uₜ = ηₜ gₜ + α uₜ₋₁ (the velocity holds *steps*,
learning rate included).  torch (τ = 0, no Nesterov): bₜ = μ bₜ₋₁ + gₜ, uₜ = γₜ bₜ (the buffer holds
*gradients*; the lr multiplies the whole buffer at the moment of the step).

* Constant lr (γₜ = ηₜ = η), α = μ, τ = 0: multiplying torch's recursion by η gives
  η bₜ = μ η bₜ₋₁ + η gₜ, i.e. uₜ = μ uₜ₋₁ + η gₜ with u₁ = η g₁ — the classical recursion with
  Δθ₁ = 0.  The trajectories are identical.
* The lr changes from η to η′ before step k: torch's first step with η′ is
  uₖ = η′(μ bₖ₋₁ + gₖ) = μ (η′/η) uₖ₋₁ + η′ gₖ — the whole velocity is rescaled at once — while the
  classical uₖ = μ uₖ₋₁ + η′ gₖ keeps the old-lr velocity, which only fades by α per step.  The step
  difference dₛ = uₛ(torch) − uₛ(classical) starts at dₖ = μ(η′/η − 1)uₖ₋₁ and then obeys dₛ = μ dₛ₋₁, so
  after n steps with the new lr

      θ(torch) − θ(classical) = −(η′/η − 1) · uₖ₋₁ · (μ + μ² + … + μⁿ).

  E.g. θ₀ = 0, g ≡ 1, μ = 0.9, η = 0.1 → 0.01 after 3 steps (u₃ = 0.271): torch's θ lies above the
  classical one by 0.9·0.271·(0.9 + 0.81 + …), i.e. 0.2195 after one more step — torch slows down at
  once, the classical form coasts on its old-lr velocity (tests/test_optim_behaviour.py checks this).
  The classical form also has no place for λ, τ, Nesterov or maximize.

Arithmetic is in the parameter's dtype, in torch's order of operations, with torch's fused
multiply-adds (``fused.fma``): float32 trajectories match torch's bit for bit, float64 ones to
~1e-15 relative (numpy has no float64 fma).  Only the single-tensor path exists: no
``foreach``/``fused``/``differentiable``.
"""
import numpy as np

from ..autograd.tensor import Tensor
from .fused import fma
from .optimizer import Optimizer, required


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum); see the module docstring."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter with a gradient; returns ``closure()``'s loss if given."""
        # BEGIN SOLUTION A4: implement SGD.step (weight decay, momentum buffer b = mu b + (1-tau) g with b1 = g1, nesterov, maximize)
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]  # Python numbers
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue  # no gradient: no decay, no momentum, no state
                param = p.data
                grad = self._grad_of(p)
                grad = -grad if maximize else grad
                if weight_decay != 0:
                    grad = fma(param, weight_decay, grad)  # g ← g + λ·θ
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = Tensor._wrap(np.array(grad, copy=True))  # b₁ = g₁
                        state["momentum_buffer"] = buf
                    else:
                        np.multiply(buf.data, momentum, out=buf.data)  # b ← μ·b, rounded (torch's mul_)
                        fma(grad, 1 - dampening, buf.data, out=buf.data)  # b ← b + (1−τ)·g, one rounding
                    grad = fma(buf.data, momentum, grad) if nesterov else buf.data  # g ← g + μ·b | b
                fma(grad, -lr, param, out=param)  # θ ← θ − γ·g, in place
        return loss
        # END SOLUTION
