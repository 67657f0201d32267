"""L2-SP: regularize toward the pretrained weights (Li, Grandvalet & Davoine, 2018).

    Ω(θ) = α/2 · ‖θ_backbone − θ⁰_backbone‖²  +  β/2 · ‖θ_head‖²

θ⁰ is the starting (pretrained) backbone; the new head has no pretrained value, so it gets
plain weight decay.  The gradient of Ω is added to each parameter's gradient before the
optimizer's update:

    g_backbone ← g + α·(θ − θ⁰)        g_head ← g + β·θ

which is exactly the gradient of  L + Ω  — so the training step itself (loop.py) stays the
plain cross-entropy step, and the reported loss is the data loss L alone.  Only parameters
with a gradient (the ones that train) are touched.

Python API (stable): ``L2SP(optimizer, model, alpha, beta)`` wraps any minitune optimizer and
behaves like it (``step``, ``zero_grad``, ``param_groups``, ``state_dict``, ``load_state_dict``);
``penalty()`` returns Ω(θ) as a float.
"""
import numpy as np

from .strategy import stage_of


class L2SP:
    """An optimizer that adds the L2-SP gradient (see the module docstring) before each step."""

    def __init__(self, optimizer, model, alpha, beta):
        for name, value in (("alpha", alpha), ("beta", beta)):
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ValueError(f"L2-SP {name} must be a finite number >= 0, got {value!r}")
        self.optimizer, self.alpha, self.beta = optimizer, float(alpha), float(beta)
        self.params = [(p, stage_of(n) == 0) for n, p in model.named_parameters()]
        # θ⁰: a copy of the starting backbone (lora adapters start at 0 change anyway: A random, B = 0,
        # and their θ⁰ is their own start, so Ω pulls the adapted weight back toward W)
        self.start = {id(p): np.array(p.data, copy=True) for p, is_head in self.params if not is_head}

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    def zero_grad(self, set_to_none=True):
        return self.optimizer.zero_grad(set_to_none=set_to_none)

    def add_gradient(self):
        """g ← g + α(θ − θ⁰) on the backbone, g ← g + βθ on the head, in place."""
        for p, is_head in self.params:
            if p.grad is None:
                continue
            if is_head:
                p.grad.data[...] += self.beta * p.data
            else:
                p.grad.data[...] += self.alpha * (p.data - self.start[id(p)])

    def step(self, closure=None):
        self.add_gradient()
        return self.optimizer.step(closure)

    def penalty(self):
        """Ω(θ) = α/2 Σ‖θ − θ⁰‖² (backbone) + β/2 Σ‖θ‖² (head)."""
        total = 0.0
        for p, is_head in self.params:
            d = p.data if is_head else p.data - self.start[id(p)]
            total += (self.beta if is_head else self.alpha) / 2 * float(np.sum(d.astype(np.float64) ** 2))
        return total

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        return self.optimizer.load_state_dict(state_dict)
