r"""``Adam``: adaptive moments with torch's bias corrections, placement of ε, AMSGrad and weight decay.

The update, exactly as implemented (torch's ``_single_tensor_adam``, non-capturable branch; γ = lr,
β₁, β₂ = betas, λ = weight_decay), for every parameter θ whose gradient is not None::

    t ← t + 1                                           # state["step"], a float32 0-d Tensor
    g ← −∇f(θ) if maximize else ∇f(θ)
    if λ ≠ 0:
        θ ← θ·(1 − γλ)        if decoupled_weight_decay  # AdamW: decay the weights first, g untouched
        g ← g + λ·θ           otherwise                  # Adam: L2 penalty, goes through m and v
    m ← m + (1−β₁)·(g − m)                              # = β₁m + (1−β₁)g, torch's m.lerp_(g, 1−β₁)
    v ← β₂·v + (1−β₂)·g·g
    if amsgrad:  v_max ← max(v_max, v);  v̄ = v_max       # the max of the *raw* v, corrected below
    else:        v̄ = v
    d ← √v̄ / √(1−β₂ᵗ) + ε                              # ε is added AFTER the bias-corrected square root
    θ ← θ − (γ / (1−β₁ᵗ)) · m / d

Textbook form (Kingma & Ba): m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ ← θ − γ m̂ / (√v̂ + ε).  The line above is
the same expression, with ε outside the root and after the correction of v (so a given ε acts
like ε·√(1−β₂ᵗ) in the paper's "efficient" ordering, which adds ε to √v before correcting).
The bias corrections 1−β₁ᵗ, 1−β₂ᵗ and the step size γ/(1−β₁ᵗ) are Python floats (double precision),
as in torch; everything touching arrays is in the parameter's dtype, in torch's order of operations,
with its fused multiply-adds (``fused.fma``), so float32 runs match torch's nearly bit for bit.

State names as torch's: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq`` (v_max,
only with amsgrad).  Only the single-tensor path exists: no ``foreach``/``fused``/``capturable``.
Betas are plain numbers (torch also rejects ints such as ``betas=(0, 0.999)``; minitune accepts them).
"""
import numpy as np

from ..autograd.tensor import Tensor
from .fused import fma
from .optimizer import Optimizer


def lerp_(start, end, weight):
    """``start ← start + weight·(end − start)`` in place, with torch's two-branch formula.

    torch evaluates ``start + w·(end − start)`` when |w| < 0.5 and ``end + (w − 1)·(end − start)``
    otherwise (exact at w = 1), each as one fused multiply-add; ``weight`` is rounded to the dtype first.
    """
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        fma(end - start, w, start, out=start)
    else:
        fma(end - start, w - start.dtype.type(1), end, out=start)
    return start


def _check_adam_hyperparameters(lr, betas, eps, weight_decay):
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """Implements the Adam algorithm (and AMSGrad); see the module docstring for the exact update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        _check_adam_hyperparameters(lr, betas, eps, weight_decay)
        betas = (float(betas[0]), float(betas[1]))
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _init_state(self, p, amsgrad):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = Tensor._wrap(np.zeros((), dtype=np.float32))  # torch keeps step as float32
            state["exp_avg"] = Tensor._wrap(np.zeros_like(p.data))
            state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p.data))
            if amsgrad:
                state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p.data))
        return state

    def _after_load_state_dict(self):
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:  # old checkpoints store step as a number: make it torch's float32 Tensor
                state = self.state.get(p)
                if state and not isinstance(state.get("step"), Tensor):
                    state["step"] = Tensor._wrap(np.asarray(float(state["step"]), dtype=np.float32))

    def step(self, closure=None):
        """One update of every parameter with a gradient; returns ``closure()``'s loss if given."""
        # BEGIN SOLUTION A4: implement Adam.step (moments m and v, bias corrections, eps after the square root, amsgrad, weight decay)
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]  # Python numbers
            beta1, beta2 = group["betas"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p.data
                grad = self._grad_of(p)
                state = self._init_state(p, amsgrad)
                grad = -grad if maximize else grad
                exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
                state["step"].data += np.float32(1)
                step = float(state["step"].data)

                if weight_decay != 0:
                    if decoupled:
                        param *= 1 - lr * weight_decay  # θ ← θ·(1 − γλ)
                    else:
                        grad = fma(param, weight_decay, grad)  # g ← g + λθ

                lerp_(exp_avg, grad, 1 - beta1)  # m ← β₁m + (1−β₁)g
                fma((1 - beta2) * grad, grad, exp_avg_sq * beta2, out=exp_avg_sq)  # v ← β₂v + (1−β₂)g²

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5

                if amsgrad:
                    max_exp_avg_sq = state["max_exp_avg_sq"].data
                    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = np.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
                else:
                    denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps  # d = √v/√(1−β₂ᵗ) + ε

                param += -step_size * exp_avg / denom  # θ ← θ − (γ/(1−β₁ᵗ))·m/d
        return loss
        # END SOLUTION
