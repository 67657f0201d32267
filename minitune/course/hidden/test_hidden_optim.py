"""Hidden cases for assignment 4: the classic optimizer mistakes (instructor-only; never in a student copy).

Each case runs a few steps of minitune's optimizer and compares every step, in float64, with an
independent reference written here from torch's algorithm (``reference_sgd``/``reference_adam``;
``tests/test_course_hidden.py`` checks them against torch's fixtures).  Tolerance 1e-10 of the
parameter's size: rounding never fails a case, a wrong formula always does.
"""
import numpy as np
import pytest

import minitune
from minitune.nn import Parameter
from minitune.optim import SGD, Adam, AdamW

RTOL = 1e-10


def reference_sgd(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """torch.optim.SGD, one parameter, float64: the trajectory (steps + 1, *shape)."""
    theta, out, buf = np.array(theta, np.float64), [np.array(theta, np.float64)], None
    for g in grads:
        g = -g if maximize else np.array(g, np.float64)
        if weight_decay:
            g = g + weight_decay * theta
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        theta = theta - lr * g
        out.append(theta)
    return np.stack(out)


def reference_adam(theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                   decoupled=False):
    """torch.optim.Adam (AdamW with ``decoupled``), one parameter, float64: the trajectory."""
    b1, b2 = betas
    theta = np.array(theta, np.float64)
    m, v, vmax, out = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta), [theta]
    for t, g in enumerate(grads, 1):
        g = -g if maximize else np.array(g, np.float64)
        if weight_decay and decoupled:
            theta = theta * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2 ** t)
        theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(vhat) + eps)
        out.append(theta)
    return np.stack(out)


def gradients(steps, shape=(3, 4), seed=0, shrink=False):
    rng = np.random.default_rng(seed)
    scale = np.where(np.arange(steps) < 2, 3.0, 0.05) if shrink else np.ones(steps)
    return [rng.normal(size=shape) * s for s in scale]


def run(make, theta0, grads, in_place=False):
    """minitune's trajectory; ``in_place``: zero the grads with zero_grad(set_to_none=False) and accumulate
    the next one into the same array, as backward does."""
    p = Parameter(np.array(theta0, np.float64))
    opt = make([p])
    out = [p.data.copy()]
    for g in grads:
        if in_place and p.grad is not None:
            opt.zero_grad(set_to_none=False)
            p.grad.data += g
        else:
            p.grad = minitune.tensor(g.copy())
        opt.step()
        out.append(p.data.copy())
    return np.stack(out)


def check(ours, expected):
    scale = np.abs(expected).max()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=RTOL * scale)


THETA0 = np.random.default_rng(1).normal(size=(3, 4))

SGD_CASES = {
    "momentum=0.9-zero_grad_in_place": (dict(momentum=0.9), True),
    "momentum=0.9-dampening=0.5": (dict(momentum=0.9, dampening=0.5), False),
    "momentum=0.9-nesterov=True": (dict(momentum=0.9, nesterov=True), False),
    "momentum=0.9-weight_decay=0.1": (dict(momentum=0.9, weight_decay=0.1), False),
    "momentum=0.9-weight_decay=0.1-maximize=True": (dict(momentum=0.9, weight_decay=0.1, maximize=True), False),
    "weight_decay=0.1-maximize=True": (dict(weight_decay=0.1, maximize=True), False),
}


@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd(case):
    hp, in_place = SGD_CASES[case]
    grads = gradients(5)
    check(run(lambda ps: SGD(ps, lr=0.1, **hp), THETA0, grads, in_place), reference_sgd(THETA0, grads, 0.1, **hp))


ADAM_CASES = {
    "betas=(0.5, 0.6)-first_steps": dict(betas=(0.5, 0.6)),
    "eps=0.1": dict(eps=0.1),
    "eps=1.0-betas=(0.9, 0.99)": dict(eps=1.0, betas=(0.9, 0.99)),
    "amsgrad=True-shrinking_gradients": dict(amsgrad=True),
    "weight_decay=0.1-maximize=True": dict(weight_decay=0.1, maximize=True),
    "weight_decay=0.1": dict(weight_decay=0.1),
}


@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam(case):
    hp = ADAM_CASES[case]
    grads = gradients(6, shrink="shrinking" in case)
    check(run(lambda ps: Adam(ps, lr=0.05, **hp), THETA0, grads), reference_adam(THETA0, grads, 0.05, **hp))


def test_adamw_weight_decay_is_decoupled():
    grads = gradients(4)
    check(run(lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1), THETA0, grads),
          reference_adam(THETA0, grads, 0.05, weight_decay=0.1, decoupled=True))


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_float32_stays_float32_with_numpy_hyperparameters(kind):
    """Hyperparameters given as numpy float64 scalars must not turn a float32 update into a float64 one."""
    p = Parameter(THETA0.astype(np.float32))
    opt = SGD([p], lr=np.float64(0.1), momentum=np.float64(0.9)) if kind == "sgd" else Adam([p], lr=np.float64(0.05))
    for g in gradients(3):
        p.grad = minitune.tensor(g.astype(np.float32))
        opt.step()
    assert p.data.dtype == np.float32
