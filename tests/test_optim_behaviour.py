"""Optimizer behaviour: errors, skipped gradients, the zero-grad trap, momentum forms, state_dict and resume."""
import numpy as np
import pytest
from conftest import load_reference

import minitune
from minitune.nn import Parameter
from minitune.optim import SGD, Adam, AdamW, Optimizer

pytestmark = pytest.mark.optim


def param(*values, dtype=np.float64):
    return Parameter(np.array(values, dtype=dtype))


# ---- invalid hyperparameters: torch's exception types and messages ------------------------------------
INVALID = [
    (SGD, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (SGD, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (SGD, dict(weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (SGD, dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires a momentum and zero dampening"),
    (Adam, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (Adam, dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    (Adam, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (Adam, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (AdamW, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (AdamW, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
]


@pytest.mark.parametrize("cls,kwargs,message", INVALID, ids=[f"{c.__name__}-{m}" for c, _, m in INVALID])
def test_invalid_hyperparameters(cls, kwargs, message):
    with pytest.raises(ValueError) as info:
        cls([param(1.0)], **kwargs)
    assert str(info.value) == message


BAD_PARAMS = [
    (lambda p: [], ValueError, "optimizer got an empty parameter list"),
    (lambda p: p, TypeError, "should be an iterable of Tensors or dicts"),
    (lambda p: [np.zeros(2)], TypeError, "optimizer can only optimize Tensors"),
    (lambda p: [{"params": [p]}, {"params": [p], "lr": 0.1}], ValueError,
     "some parameters appear in more than one parameter group"),
    (lambda p: [{"params": {p}}], TypeError, "ordered collections"),
    (lambda p: [p * 2], ValueError, "can't optimize a non-leaf Tensor"),
]


@pytest.mark.parametrize("make,exc,message", BAD_PARAMS, ids=[m[:30] for _, _, m in BAD_PARAMS])
def test_bad_parameter_lists(make, exc, message):
    with pytest.raises(exc, match=message):
        SGD(make(param(1.0, 2.0)), lr=0.1)


def test_add_param_group_rejects_a_parameter_already_present():
    p, q = param(1.0), param(2.0)
    opt = SGD([p], lr=0.1)
    opt.add_param_group({"params": [q], "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0  # defaults filled in
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [p]})


def test_grad_shape_mismatch_is_an_error():
    p = param(1.0, 2.0)
    p.grad = minitune.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(2,\) has a gradient of shape \(3,\)"):
        SGD([p], lr=0.1).step()


# ---- skipping None gradients; zero_grad -------------------------------------------------------
@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
                                  lambda ps: Adam(ps, lr=0.1, weight_decay=0.1),
                                  lambda ps: AdamW(ps, lr=0.1, weight_decay=0.1)], ids=["sgd", "adam", "adamw"])
def test_parameters_without_gradient_are_skipped(make):
    p, frozen = param(1.0, -2.0), param(3.0, 4.0)
    frozen.requires_grad_(False)
    opt = make([p, frozen])
    for _ in range(3):
        p.grad = minitune.tensor(np.array([0.5, -1.0]))
        opt.step()
    np.testing.assert_array_equal(frozen.data, [3.0, 4.0])  # no decay either
    assert frozen not in opt.state or opt.state[frozen] == {}
    assert len(opt.state[p]) > 0


def test_zero_grad_trap_matches_torch():
    """zero_grad(set_to_none=False) then freezing: the momentum buffer keeps moving the weight (§5.6)."""
    ref = load_reference("optim_zero_grad_trap")
    for name, set_to_none in (("zeros", False), ("none", True)):
        p = param(1.0, -2.0)
        opt = SGD([p], lr=0.1, momentum=0.9)
        traj = []
        for t in range(6):
            if t < 3:
                p.grad = minitune.tensor(np.array([0.5, -1.0]) * (t + 1))
            elif t == 3:
                opt.zero_grad(set_to_none=set_to_none)
                p.requires_grad_(False)
            opt.step()
            traj.append(p.data.copy())
        np.testing.assert_allclose(np.stack(traj), ref[f"{name}_theta"], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(opt.state[p]["momentum_buffer"].data, ref[f"{name}_buffer"], rtol=1e-13)
    moved = ref["zeros_theta"][3] - ref["zeros_theta"][2]
    np.testing.assert_allclose(moved, -0.1 * 0.9 * ref["zeros_buffer"] / 0.9 ** 3, rtol=1e-12)  # −lr·μ·b each step
    np.testing.assert_array_equal(ref["none_theta"][3:], ref["none_theta"][2:3].repeat(3, axis=0))


def test_zero_grad_set_to_none_false_zeroes_in_place():
    p = param(1.0, 2.0)
    p.grad = minitune.tensor(np.array([3.0, 4.0]))
    grad = p.grad
    SGD([p]).zero_grad(set_to_none=False)
    assert p.grad is grad
    np.testing.assert_array_equal(grad.data, [0.0, 0.0])
    SGD([p]).zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_the_loss_and_records_the_graph():
    p = param(1.0, -2.0)
    opt = SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with minitune.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.data, [1.0 - 0.1 * 2.0, -2.0 + 0.1 * 4.0])


def test_adamw_is_adam_with_decoupled_decay():
    assert AdamW([param(1.0)]).defaults["weight_decay"] == 1e-2
    ps = [param(1.0, -2.0), param(1.0, -2.0)]
    opts = [AdamW([ps[0]], lr=0.1, weight_decay=0.1),
            Adam([ps[1]], lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)]
    for g in ([0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]):
        for p, opt in zip(ps, opts):
            p.grad = minitune.tensor(np.array(g))
            opt.step()
    np.testing.assert_array_equal(ps[0].data, ps[1].data)


@pytest.mark.parametrize("eps", [1e-8, 0.1, 1.0])
def test_adam_first_step_shows_bias_correction_and_where_eps_goes(eps):
    """At t = 1 the corrections make m̂ = g and √v̂ = |g|, so θ₁ = θ₀ − lr·g/(|g| + ε): ε outside the root."""
    g = np.array([0.5, -1.0, 2e-3])
    p = param(1.0, -2.0, 0.5)
    p.grad = minitune.tensor(g)
    Adam([p], lr=0.1, eps=eps).step()
    np.testing.assert_allclose(p.data, [1.0, -2.0, 0.5] - 0.1 * g / (np.abs(g) + eps), rtol=1e-15)
    inside_root = [1.0, -2.0, 0.5] - 0.1 * g / np.sqrt(g * g + eps)
    # The two placements differ far beyond rounding (the check above is to 1e-15), so a test
    # of where ε goes can tell them apart at every eps here (1e-8 too: the 2e-3 entry differs by ~1e-4).
    assert np.abs(p.data - inside_root).max() > 1e-5


# ---- classical momentum vs torch's buffer form ---------------------------------------------------------
def classical_momentum(theta0, grads, lrs, alpha):
    """θₜ₊₁ = θₜ − ηₜ gₜ + α(θₜ − θₜ₋₁), with Δθ = 0 before the first step."""
    theta, prev, out = theta0, theta0, []
    for g, lr in zip(grads, lrs):
        theta, prev = theta - lr * g + alpha * (theta - prev), theta
        out.append(theta)
    return np.array(out)


def torch_form_momentum(lrs, mu):
    p = param(0.0)
    opt = SGD([p], lr=lrs[0], momentum=mu)
    out = []
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        p.grad = minitune.tensor(np.ones(1))
        opt.step()
        out.append(p.data[0])
    return np.array(out)


def test_momentum_forms_agree_for_constant_lr_and_differ_as_the_docstring_says_after_a_drop():
    ref = load_reference("optim_momentum_forms")
    mu = 0.9
    for name in ("constant", "drop"):
        lrs = ref[f"{name}_lrs"]
        ours = torch_form_momentum(lrs, mu)
        np.testing.assert_allclose(ours, ref[f"{name}_theta"], rtol=1e-14)  # minitune's SGD is torch's
        classical = classical_momentum(0.0, np.ones(6), lrs, mu)
        if name == "constant":
            np.testing.assert_allclose(classical, ours, rtol=1e-13)
            continue
        # lr η → η′ before step k = 4: θ(torch) − θ(classical) = −(η′/η − 1)·u₃·(μ + … + μⁿ), u₃ = θ₂ − θ₃
        eta, eta_new = lrs[0], lrs[3]
        u3 = ours[1] - ours[2]
        assert np.all(np.abs(ours[3:] - classical[3:]) > 0.1)  # visibly different
        np.testing.assert_allclose(classical[:3], ours[:3], rtol=1e-13)
        for n in (1, 2, 3):
            predicted = -(eta_new / eta - 1) * u3 * sum(mu ** j for j in range(1, n + 1))
            np.testing.assert_allclose(ours[2 + n] - classical[2 + n], predicted, rtol=1e-12)


# ---- state_dict and resume -------------------------------------------------------------------------------
def make_problem(seed=0, steps=12):
    rng = np.random.default_rng(seed)
    params = [Parameter(rng.normal(size=(3, 2))), Parameter(rng.normal(size=4)), Parameter(rng.normal(size=2))]
    grads = [[rng.normal(size=p.shape) * (3.0 if t < 4 else 0.1) for p in params] for t in range(steps)]
    return params, grads


def run(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = minitune.tensor(g.copy())
        opt.step()


MAKERS = {
    "sgd_groups": lambda ps: SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01, "nesterov": True}],
                                 lr=0.1, momentum=0.9, weight_decay=1e-3),
    "adam_amsgrad": lambda ps: Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.1),
    "adamw": lambda ps: AdamW([{"params": ps[:1], "lr": 0.02}, {"params": ps[1:]}], lr=0.05),
}


@pytest.mark.parametrize("kind", list(MAKERS))
def test_resume_from_state_dict_is_bit_identical(kind):
    params, grads = make_problem()
    opt = MAKERS[kind](params)
    run(opt, params, grads)
    expected = [p.data.copy() for p in params]

    params, _ = make_problem()
    opt = MAKERS[kind](params)
    run(opt, params, grads[:5])
    saved_params = [p.data.copy() for p in params]
    saved = opt.state_dict()
    run(opt, params, grads[5:7])  # training goes on: the saved dict must not change

    fresh, _ = make_problem(seed=1)
    for p, data in zip(fresh, saved_params):
        p.data = data.copy()
    resumed = MAKERS[kind](fresh)
    resumed.load_state_dict(saved)
    run(resumed, fresh, grads[5:])
    for p, e in zip(fresh, expected):
        np.testing.assert_array_equal(p.data, e)


def test_state_dict_has_torchs_layout():
    params, grads = make_problem()
    opt = MAKERS["sgd_groups"](params)
    run(opt, params, grads[:2])
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert set(sd["state"][0]) == {"momentum_buffer"}
    assert sd["param_groups"][1]["lr"] == 0.01 and sd["param_groups"][1]["nesterov"] is True
    assert sd["state"][0]["momentum_buffer"].data is not opt.state[params[0]]["momentum_buffer"].data

    adam = Adam(params[:1], amsgrad=True)
    run(adam, params[:1], [g[:1] for g in grads[:3]])
    st = adam.state_dict()["state"][0]
    assert set(st) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert st["step"].dtype == np.float32 and st["step"].item() == 3.0


def test_load_state_dict_checks_groups_and_casts_dtype():
    p64, p32 = param(1.0, 2.0), param(1.0, 2.0, dtype=np.float32)
    opt = SGD([p64], lr=0.1, momentum=0.9)
    p64.grad = minitune.tensor(np.array([1.0, 1.0]))
    opt.step()
    sd = opt.state_dict()
    target = SGD([p32], lr=0.5, momentum=0.9)
    target.load_state_dict(sd)
    assert target.state[p32]["momentum_buffer"].dtype == np.float32
    assert target.param_groups[0]["lr"] == 0.1 and target.param_groups[0]["params"][0] is p32
    with pytest.raises(ValueError, match="different number of parameter groups"):
        SGD([{"params": [param(1.0)]}, {"params": [param(2.0)]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        SGD([param(1.0), param(2.0)]).load_state_dict(sd)


def test_step_is_required_of_subclasses_and_repr_lists_groups():
    with pytest.raises(NotImplementedError):
        Optimizer([param(1.0)], {"lr": 0.1}).step()
    text = repr(SGD([param(1.0)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


def test_adam_loads_a_numeric_step_from_an_old_checkpoint():
    p = param(1.0, -2.0)
    opt = Adam([p], lr=0.1)
    p.grad = minitune.tensor(np.array([0.5, -1.0]))
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1  # torch < 1.12 saved a Python number
    q = param(1.0, -2.0)
    again = Adam([q], lr=0.1)
    again.load_state_dict(sd)
    assert again.state[q]["step"].dtype == np.float32 and again.state[q]["step"].item() == 1.0
