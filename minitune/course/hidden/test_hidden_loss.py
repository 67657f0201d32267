"""Hidden cases for assignment 3: cross-entropy with class weights, ignore_index and label smoothing.

The loss and the gradient of ``F.cross_entropy`` against torch's documented formula written here
(per counted row i with target tᵢ: lᵢ = −(1−ε) w_{tᵢ} log p_{i tᵢ} − (ε/C) Σⱼ wⱼ log p_{ij}; 'mean'
divides by Σ_{counted} w_{tᵢ}), the gradient by central differences of that formula, in float64.
"""
import numpy as np
import pytest

import minitune
import minitune.nn.functional as F


def log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def formula(x, t, weight, ignore_index, smoothing, reduction):
    C = x.shape[1]
    w = np.ones(C) if weight is None else weight
    logp = log_softmax(x)
    counted = t != ignore_index
    losses = np.zeros(len(t))
    for i in np.flatnonzero(counted):
        losses[i] = -(1 - smoothing) * w[t[i]] * logp[i, t[i]] - smoothing / C * (w * logp[i]).sum()
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / w[t[counted]].sum()


def numeric_gradient(f, x, g, h=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[index] += h
        xm[index] -= h
        grad[index] = ((f(xp) - f(xm)) * g).sum() / (2 * h)
    return grad


CASES = {
    "weight=yes-reduction=mean": dict(weight=True),
    "weight=yes-reduction=sum": dict(weight=True, reduction="sum"),
    "ignore_index=2-reduction=mean": dict(ignore_index=2),
    "ignore_index=2-weight=yes-reduction=none": dict(ignore_index=2, weight=True, reduction="none"),
    "label_smoothing=0.3-reduction=mean": dict(smoothing=0.3),
    "label_smoothing=0.3-weight=yes-ignore_index=0-reduction=mean": dict(smoothing=0.3, weight=True, ignore_index=0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_cross_entropy(case):
    options = dict(weight=False, ignore_index=-100, smoothing=0.0, reduction="mean") | CASES[case]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4)) * 2
    t = np.array([0, 2, 1, 3, 2, 1])
    weight = np.array([0.2, 1.0, 2.5, 0.7]) if options["weight"] else None
    args = (t, weight, options["ignore_index"], options["smoothing"], options["reduction"])
    expected = formula(x, *args)
    xt = minitune.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, minitune.tensor(t), weight=None if weight is None else minitune.tensor(weight),
                           ignore_index=options["ignore_index"], reduction=options["reduction"],
                           label_smoothing=options["smoothing"])
    np.testing.assert_allclose(loss.data, expected, rtol=1e-10, atol=1e-12, err_msg="loss")
    g = rng.normal(size=np.shape(expected))
    loss.backward(minitune.tensor(g))
    np.testing.assert_allclose(xt.grad.data, numeric_gradient(lambda z: formula(z, *args), x, g), rtol=1e-5,
                               atol=1e-7, err_msg="gradient")
