"""torch 2.13 reference trajectories for ``minitune.optim``: optimizers, schedules, momentum forms.

Every optimizer case runs 25 steps from fixed parameters with prescribed, seeded per-step gradients
(the same arrays are saved, so the tests replay them):

* ``w`` (3×4): large gradients for 6 steps, then small ones, so Adam's v shrinks and AMSGrad matters;
* ``b`` (5,): gradients that grow;
* ``c`` (2,): gradient None on every 4th step (offset 2), so skipping is part of the trajectory.

The option grids (one row of ``config`` per run) are ``tests/optim_cases.py``'s ``SGD_GRID`` / ``ADAM_GRID``,
which the tests read too.
"""
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))
from lr_schedule_cases import schedule_cases  # noqa: E402
from optim_cases import ADAM_GRID, ADAMW_GRID, SGD_GRID  # noqa: E402,F401  (one table, shared with the tests)

STEPS = 25
SHAPES = {"w": (3, 4), "b": (5,), "c": (2,)}

SGD_STATE = ["momentum_buffer"]
ADAM_STATE = ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]


def problem(dtype):
    """Initial parameters and the per-step gradients (``has_grad_c`` marks the steps where c has one)."""
    rng = np.random.default_rng(20240605)
    arrays = {f"{n}0": rng.normal(size=s) for n, s in SHAPES.items()}
    scale_w = np.where(np.arange(STEPS) < 6, 3.0, 0.05)
    arrays["grads_w"] = rng.normal(size=(STEPS, 3, 4)) * scale_w[:, None, None]
    arrays["grads_b"] = rng.normal(size=(STEPS, 5)) * (0.2 + 0.1 * np.arange(STEPS))[:, None]
    arrays["grads_c"] = rng.normal(size=(STEPS, 2))
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    arrays["has_grad_c"] = (np.arange(STEPS) % 4 != 2)
    return arrays


def run_torch(make_optimizer, prob, lr_changes=None):
    """Trajectories (STEPS+1, *shape) of every parameter and the final state, from torch."""
    params = {n: torch.tensor(prob[f"{n}0"], requires_grad=True) for n in SHAPES}
    opt = make_optimizer(list(params.values()))
    traj = {n: [p.detach().clone().numpy()] for n, p in params.items()}
    for t in range(STEPS):
        for n, p in params.items():
            has = n != "c" or prob["has_grad_c"][t]
            p.grad = torch.tensor(prob[f"grads_{n}"][t]) if has else None
        opt.step()
        for n, p in params.items():
            traj[n].append(p.detach().clone().numpy())
    return {n: np.stack(v) for n, v in traj.items()}, {n: opt.state[p] for n, p in params.items()}


def optimizer_cases(save, name, grid, state_keys, make):
    for dtype in (np.float64, np.float32):
        prob = problem(dtype)
        out = {k: v for k, v in prob.items()}
        out["config"] = np.array(grid, dtype=np.float64)
        trajs = {n: [] for n in SHAPES}
        states = {(k, n): [] for k in state_keys for n in SHAPES}
        for row in grid:
            traj, state = run_torch(lambda ps, row=row: make(ps, row), prob)
            for n in SHAPES:
                trajs[n].append(traj[n])
                for k in state_keys:
                    v = state[n].get(k)
                    shape = () if k == "step" else SHAPES[n]
                    value = np.full(shape, np.nan, dtype) if v is None else v.detach().numpy().astype(dtype)
                    states[k, n].append(value)
        for n in SHAPES:
            out[f"traj_{n}"] = np.stack(trajs[n])
            for k in state_keys:
                out[f"state_{k}_{n}"] = np.stack(states[k, n])
        save(f"{name}_{np.dtype(dtype).name}", **out)


def make_sgd(ps, row):
    m, d, nest, wd, mx = row
    return torch.optim.SGD(ps, lr=0.1, momentum=m, dampening=d, weight_decay=wd, nesterov=bool(nest),
                           maximize=bool(mx), foreach=False)


def make_adam(ps, row, cls=torch.optim.Adam):
    wd, ams, mx, eps, b1, b2 = row
    return cls(ps, lr=0.05, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=bool(ams), maximize=bool(mx),
               foreach=False)


def make_groups(ps, kind):
    w, b, c = ps
    if kind == "sgd":
        return torch.optim.SGD([{"params": [w]}, {"params": [b, c], "lr": 0.01, "weight_decay": 0.1,
                                                  "nesterov": True}], lr=0.1, momentum=0.9, foreach=False)
    return torch.optim.Adam([{"params": [w, c], "lr": 0.01}, {"params": [b], "amsgrad": True, "betas": (0.5, 0.9)}],
                            lr=0.05, foreach=False)


# ---- a real model: 2-layer MLP + cross-entropy, 5 SGD-momentum steps and 5 Adam steps ----------
def mlp_case(save, dtype):
    rng = np.random.default_rng(7)
    arrays = {"x": rng.normal(size=(16, 4)), "W1": rng.normal(size=(8, 4)) * 0.5, "b1": rng.normal(size=8) * 0.1,
              "W2": rng.normal(size=(3, 8)) * 0.5, "b2": rng.normal(size=3) * 0.1}
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    arrays["y"] = rng.integers(0, 3, size=16)
    for kind, make in (("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3, foreach=False)),
                       ("adam", lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False))):
        params = [torch.tensor(arrays[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
        opt = make(params)
        x, y = torch.tensor(arrays["x"]), torch.tensor(arrays["y"])
        losses, traj = [], {k: [] for k in ("W1", "b1", "W2", "b2")}
        for _ in range(5):
            opt.zero_grad()
            W1, b1, W2, b2 = params
            loss = F.cross_entropy(torch.tanh(x @ W1.T + b1) @ W2.T + b2, y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            for k, p in zip(traj, params):
                traj[k].append(p.detach().clone().numpy())
        arrays[f"{kind}_losses"] = np.array(losses)
        for k in traj:
            arrays[f"{kind}_{k}"] = np.stack(traj[k])
    save(f"mlp_{np.dtype(dtype).name}", **arrays)


# ---- classical momentum vs torch's buffer, and the zero-grad momentum trap ----------------------------
def momentum_forms(save):
    out = {}
    for name, new_lr in (("constant", 0.1), ("drop", 0.01)):
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, foreach=False)
        lrs, traj = [], []
        for t in range(6):
            if t == 3:
                opt.param_groups[0]["lr"] = new_lr
            lrs.append(opt.param_groups[0]["lr"])
            p.grad = torch.ones(1, dtype=torch.float64)
            opt.step()
            traj.append(p.item())
        out[f"{name}_lrs"], out[f"{name}_theta"] = np.array(lrs), np.array(traj)
    save("momentum_forms", **out)

    out = {}
    for name, set_to_none in (("zeros", False), ("none", True)):
        p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, foreach=False)
        traj = []
        for t in range(6):
            if t < 3:
                p.grad = torch.tensor([0.5, -1.0], dtype=torch.float64) * (t + 1)
            elif t == 3:
                opt.zero_grad(set_to_none=set_to_none)
                p.requires_grad_(False)  # "freeze" after some steps
            opt.step()
            traj.append(p.detach().clone().numpy())
        out[f"{name}_theta"] = np.stack(traj)
        out[f"{name}_buffer"] = opt.state[p]["momentum_buffer"].numpy()
    save("zero_grad_trap", **out)


# ---- schedules: the table in tests/lr_schedule_cases.py, evaluated with torch's lr_scheduler ----------
def schedules(save):
    import warnings
    out = {}
    for name, (build, calls) in schedule_cases(lr_scheduler).items():
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
        opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=1e-3, momentum=0.9)
        sched = build(opt)
        lrs = [[g["lr"] for g in opt.param_groups]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for call in (range(calls) if isinstance(calls, int) else calls):
                opt.step()
                sched.step() if isinstance(calls, int) else sched.step(call)
                lrs.append(list(sched.get_last_lr()))
        out[name] = np.array(lrs, dtype=np.float64)
    save("schedules", **out)


def make(save):
    torch.manual_seed(0)
    optimizer_cases(save, "sgd", SGD_GRID, SGD_STATE, make_sgd)
    optimizer_cases(save, "adam", ADAM_GRID, ADAM_STATE, make_adam)
    optimizer_cases(save, "adamw", ADAMW_GRID, ADAM_STATE, lambda ps, row: make_adam(ps, row, torch.optim.AdamW))
    for dtype in (np.float64, np.float32):
        prob = problem(dtype)
        for kind in ("sgd", "adam"):
            traj, _ = run_torch(lambda ps, kind=kind: make_groups(ps, kind), prob)
            save(f"groups_{kind}_{np.dtype(dtype).name}", **prob, **{f"traj_{n}": v for n, v in traj.items()})
        mlp_case(save, dtype)
    momentum_forms(save)
    schedules(save)
