"""Optimizer trajectories against torch 2.13: every option combination, 25 steps, float64 and float32.

The fixtures (``tools/references/optim.py``) hold the initial parameters, the per-step gradients
(``c`` has none on some steps) and torch's trajectories and final state; each test replays the
same gradients through minitune's optimizer and compares every step.
"""
import numpy as np
import pytest
from conftest import load_reference

import minitune
from minitune.nn import Parameter
from minitune.optim import SGD, Adam, AdamW

pytestmark = pytest.mark.optim

NAMES = ("w", "b", "c")
# float32: torch's float32 sqrt (MKL on AVX-512) is not always correctly rounded, so Adam may differ by one ulp
TOL = {"float64": dict(rtol=1e-12, atol=1e-14), "float32": dict(rtol=1e-6, atol=1e-6)}
DTYPES = ["float64", "float32"]


def replay(make_optimizer, ref):
    """Run minitune's optimizer on the fixture's gradients; return the trajectories and the optimizer."""
    params = {n: Parameter(ref[f"{n}0"].copy()) for n in NAMES}
    opt = make_optimizer(list(params.values()))
    traj = {n: [p.data.copy()] for n, p in params.items()}
    for t in range(ref["grads_w"].shape[0]):
        for n, p in params.items():
            has = n != "c" or ref["has_grad_c"][t]
            p.grad = minitune.tensor(ref[f"grads_{n}"][t].copy()) if has else None
        opt.step()
        for n, p in params.items():
            traj[n].append(p.data.copy())
    return {n: np.stack(v) for n, v in traj.items()}, opt, params


def make_sgd(ps, row):
    m, d, nest, wd, mx = row
    return SGD(ps, lr=0.1, momentum=m, dampening=d, weight_decay=wd, nesterov=bool(nest), maximize=bool(mx))


def make_adam(ps, row, cls=Adam):
    wd, ams, mx, eps, b1, b2 = row
    return cls(ps, lr=0.05, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=bool(ams), maximize=bool(mx))


CASES = [("sgd", make_sgd, ["momentum_buffer"]),
         ("adam", make_adam, ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
         ("adamw", lambda ps, row: make_adam(ps, row, AdamW), ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"])]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,make,state_keys", CASES, ids=[c[0] for c in CASES])
def test_every_option_combination_matches_torch(name, make, state_keys, dtype):
    ref = load_reference(f"optim_{name}_{dtype}")
    for i, row in enumerate(ref["config"]):
        traj, opt, params = replay(lambda ps: make(ps, row), ref)
        for n in NAMES:
            assert traj[n].dtype == np.dtype(dtype)
            np.testing.assert_allclose(traj[n], ref[f"traj_{n}"][i], **TOL[dtype],
                                       err_msg=f"{name} config {row.tolist()} parameter {n}")
            for key in state_keys:
                expected = ref[f"state_{key}_{n}"][i]
                entry = opt.state[params[n]].get(key)
                if np.isnan(expected).all():
                    assert entry is None, f"{name} config {row.tolist()}: unexpected state {key}"
                    continue
                assert entry.dtype == (np.float32 if key == "step" else np.dtype(dtype))
                np.testing.assert_allclose(entry.data, expected, **TOL[dtype],
                                           err_msg=f"{name} config {row.tolist()} state {key} of {n}")


def test_sgd_float32_is_bit_identical_to_torch():
    """With torch's fused multiply-adds reproduced (``minitune.optim.fused``), SGD's float32 trajectories are
    torch's to the last bit (on the fixture machine's kernels, which fuse ``add(alpha=)``)."""
    ref = load_reference("optim_sgd_float32")
    for i, row in enumerate(ref["config"]):
        traj, _, _ = replay(lambda ps: make_sgd(ps, row), ref)
        for n in NAMES:
            np.testing.assert_array_equal(traj[n], ref[f"traj_{n}"][i], err_msg=f"sgd config {row.tolist()} {n}")


def test_amsgrad_matters_in_the_fixture():
    """The gradient sequence makes v shrink, so the AMSGrad runs differ from the plain ones."""
    ref = load_reference("optim_adam_float64")
    cfg = ref["config"].tolist()
    plain, ams = cfg.index([0.0, 0.0, 0.0, 1e-8, 0.9, 0.999]), cfg.index([0.0, 1.0, 0.0, 1e-8, 0.9, 0.999])
    assert np.abs(ref["traj_w"][plain] - ref["traj_w"][ams]).max() > 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_param_groups_with_different_hyperparameters(kind, dtype):
    def make(ps):
        w, b, c = ps
        if kind == "sgd":
            return SGD([{"params": [w]}, {"params": [b, c], "lr": 0.01, "weight_decay": 0.1, "nesterov": True}],
                       lr=0.1, momentum=0.9)
        return Adam([{"params": [w, c], "lr": 0.01}, {"params": [b], "amsgrad": True, "betas": (0.5, 0.9)}], lr=0.05)

    ref = load_reference(f"optim_groups_{kind}_{dtype}")
    traj, opt, _ = replay(make, ref)
    assert [g["lr"] for g in opt.param_groups] == ([0.1, 0.01] if kind == "sgd" else [0.01, 0.05])
    for n in NAMES:
        np.testing.assert_allclose(traj[n], ref[f"traj_{n}"], **TOL[dtype], err_msg=f"{kind} group param {n}")


def mlp_loss(params, x, onehot):
    """2-layer MLP and cross-entropy from Tensor ops: mean(logsumexp(z) − z_y), z = tanh(x W1ᵀ + b1) W2ᵀ + b2."""
    W1, b1, W2, b2 = params
    z = (x @ W1.T + b1).tanh() @ W2.T + b2
    zmax = minitune.tensor(z.data.max(axis=1, keepdims=True))  # a constant shift: no gradient needed
    lse = (z - zmax).exp().sum(dim=1, keepdim=True).log() + zmax
    return ((lse - z) * onehot).sum(dim=1).mean()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_mlp_with_real_gradients(kind, dtype):
    ref = load_reference(f"optim_mlp_{dtype}")
    keys = ("W1", "b1", "W2", "b2")
    params = [Parameter(ref[k].copy()) for k in keys]
    x = minitune.tensor(ref["x"])
    onehot = minitune.tensor(np.eye(3, dtype=dtype)[ref["y"]])
    opt = SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3) if kind == "sgd" else Adam(params, lr=0.01)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
    for step in range(5):
        opt.zero_grad()
        loss = mlp_loss(params, x, onehot)
        loss.backward()
        opt.step()
        np.testing.assert_allclose(loss.item(), ref[f"{kind}_losses"][step], **tol)
        for k, p in zip(keys, params):
            np.testing.assert_allclose(p.data, ref[f"{kind}_{k}"][step], **tol, err_msg=f"{kind} step {step} {k}")
