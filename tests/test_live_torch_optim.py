"""Live comparisons with an installed torch: random optimizer settings, state_dict interchange, messages."""
import pytest

torch = pytest.importorskip("torch")

import warnings  # noqa: E402

import numpy as np  # noqa: E402

import minitune  # noqa: E402
from minitune import optim  # noqa: E402
from minitune.nn import Parameter  # noqa: E402

pytestmark = [pytest.mark.optim, pytest.mark.live_torch]


def random_settings(rng, kind):
    if kind == "SGD":
        momentum = float(rng.choice([0.0, 0.5, 0.9]))
        nesterov = bool(momentum > 0 and rng.random() < 0.5)
        return dict(lr=float(rng.uniform(0.01, 0.3)), momentum=momentum, nesterov=nesterov,
                    dampening=0.0 if nesterov else float(rng.choice([0.0, 0.3])),
                    weight_decay=float(rng.choice([0.0, 0.05])), maximize=bool(rng.random() < 0.3))
    betas = (float(rng.uniform(0.0, 0.99)), float(rng.uniform(0.5, 0.999)))
    return dict(lr=float(rng.uniform(0.001, 0.1)), betas=betas,
                eps=float(rng.choice([1e-8, 1e-3])), weight_decay=float(rng.choice([0.0, 0.05])),
                amsgrad=bool(rng.random() < 0.5), maximize=bool(rng.random() < 0.3))


@pytest.mark.parametrize("kind", ["SGD", "Adam", "AdamW"])
@pytest.mark.parametrize("seed", range(4))
def test_random_settings_match_torch(kind, seed):
    rng = np.random.default_rng(seed)
    settings = random_settings(rng, kind)
    shapes = [(4, 3), (5,), ()]
    init = [rng.normal(size=s) for s in shapes]
    tps = [torch.tensor(a, requires_grad=True) for a in init]
    mps = [Parameter(a.copy()) for a in init]
    topt = getattr(torch.optim, kind)(tps, foreach=False, **settings)
    mopt = getattr(optim, kind)(mps, **settings)
    for t in range(10):
        for tp, mp, s in zip(tps, mps, shapes):
            g = rng.normal(size=s) * (5.0 if t < 3 else 0.1)
            tp.grad, mp.grad = torch.tensor(g), minitune.tensor(np.asarray(g))
        topt.step()
        mopt.step()
    for tp, mp in zip(tps, mps):
        np.testing.assert_allclose(mp.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=str(settings))


def torch_state_dict_to_numpy(sd):
    return {"state": {k: {n: v.numpy().copy() for n, v in s.items()} for k, s in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("kind,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
                                         ("AdamW", dict(lr=0.05))])
def test_torch_state_dict_loads_into_minitune_and_keys_agree(kind, kwargs):
    rng = np.random.default_rng(0)
    init = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    grads = [[rng.normal(size=a.shape) for a in init] for _ in range(8)]
    tps = [torch.tensor(a, requires_grad=True) for a in init]
    topt = getattr(torch.optim, kind)(tps, foreach=False, **kwargs)
    for step_grads in grads[:4]:
        for p, g in zip(tps, step_grads):
            p.grad = torch.tensor(g)
        topt.step()
    sd = topt.state_dict()
    mps = [Parameter(p.detach().numpy().copy()) for p in tps]
    mopt = getattr(optim, kind)(mps, **kwargs)
    mopt.load_state_dict(torch_state_dict_to_numpy(sd))
    for step_grads in grads[4:]:
        for tp, mp, g in zip(tps, mps, step_grads):
            tp.grad, mp.grad = torch.tensor(g), minitune.tensor(g.copy())
        topt.step()
        mopt.step()
    for tp, mp in zip(tps, mps):
        np.testing.assert_allclose(mp.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
    ours = mopt.state_dict()
    assert {k: set(v) for k, v in ours["state"].items()} == {k: set(v) for k, v in topt.state_dict()["state"].items()}
    torch_only = {"foreach", "differentiable", "fused", "capturable"}  # torch's kernel switches: we have one path
    fresh = getattr(optim, kind)([Parameter(np.zeros(1))], **kwargs).state_dict()["param_groups"][0]
    assert set(fresh) == set(topt.state_dict()["param_groups"][0]) - torch_only

    # and back: minitune's state_dict, as torch tensors, loads into torch and both continue alike
    back = getattr(torch.optim, kind)([torch.tensor(p.data.copy(), requires_grad=True) for p in mps], foreach=False,
                                      **kwargs)
    state = {k: {n: torch.tensor(v.data) for n, v in st.items()} for k, st in ours["state"].items()}
    back.load_state_dict({"state": state, "param_groups": ours["param_groups"]})
    for step_grads in grads[:3]:
        for tp, mp, g in zip(back.param_groups[0]["params"], mps, step_grads):
            tp.grad, mp.grad = torch.tensor(g), minitune.tensor(g.copy())
        back.step()
        mopt.step()
    for tp, mp in zip(back.param_groups[0]["params"], mps):
        np.testing.assert_allclose(mp.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind,kwargs", [
    ("SGD", dict(lr=-1.0)), ("SGD", dict(momentum=-0.1)), ("SGD", dict(weight_decay=-0.1)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.5)),
    ("Adam", dict(eps=-1.0)), ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, -0.1))),
    ("AdamW", dict(weight_decay=-1.0)),
])
def test_error_messages_are_torchs(kind, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, kind)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(optim, kind)([Parameter(np.zeros(1))], **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_scheduler_state_dict_keys_and_warning_match_torch():
    tp = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1)
    mopt = optim.SGD([Parameter(np.zeros(1))], lr=0.1)
    tsched = torch.optim.lr_scheduler.StepLR(topt, 3)
    msched = optim.lr_scheduler.StepLR(mopt, 3)
    messages = []
    for sched in (tsched, msched):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()
        messages.append([str(w.message) for w in caught if issubclass(w.category, UserWarning)])
    assert messages[0] == messages[1] and len(messages[0]) == 1
    assert set(msched.state_dict()) == set(tsched.state_dict())
    assert msched.state_dict()["_last_lr"] == tsched.state_dict()["_last_lr"]
