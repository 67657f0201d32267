"""Learning-rate schedules against torch 2.13's lr sequences, resume, warnings and optimizer state."""
import warnings

import numpy as np
import pytest
from conftest import load_reference
from lr_schedule_cases import schedule_cases

import minitune
from minitune.nn import Parameter
from minitune.optim import SGD, Adam
from minitune.optim import lr_scheduler as S

pytestmark = pytest.mark.optim

CASES = schedule_cases(S)  # the table tools/references/optim.py evaluates with torch


def two_group_sgd():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(3))
    return SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=1e-3, momentum=0.9)


def lr_sequence(build, calls, opt=None):
    opt = opt or two_group_sgd()
    sched = build(opt)
    lrs = [[g["lr"] for g in opt.param_groups]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call in (range(calls) if isinstance(calls, int) else calls):
            opt.step()
            sched.step() if isinstance(calls, int) else sched.step(call)
            assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
            lrs.append(list(sched.get_last_lr()))
    return np.array(lrs)


@pytest.mark.parametrize("name", list(CASES))
def test_lr_sequence_equals_torch(name):
    expected = load_reference("optim_schedules")[name]
    # same float operations in the same order as torch: equal to the last bit
    np.testing.assert_array_equal(lr_sequence(*CASES[name]), expected)


def test_steplr_as_the_tutorial_uses_it():
    lrs = lr_sequence(*CASES["steplr"])[:25, 0]  # the lr in force during epochs 0..24
    ref = load_reference("optim_schedules")["steplr"][:25, 0]
    for epochs, factor in ((range(0, 7), 1), (range(7, 14), 1e-1), (range(14, 21), 1e-2), (range(21, 25), 1e-3)):
        np.testing.assert_allclose(lrs[list(epochs)], ref[0] * factor, rtol=1e-12)
    np.testing.assert_array_equal(lrs, ref)


@pytest.mark.parametrize("name", ["steplr", "cosine", "sequential_warmup_cosine", "multisteplr", "linearlr_default"])
def test_resume_from_state_dict_continues_the_sequence(name):
    build, steps = CASES[name]
    full = lr_sequence(build, steps)
    opt = two_group_sgd()
    sched = build(opt)
    for _ in range(9):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved_sched

    opt2 = two_group_sgd()
    sched2 = build(opt2)  # as torch's docs say: build the scheduler, then load both
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    rest = []
    for _ in range(steps - 9):
        opt2.step()
        sched2.step()
        rest.append(list(sched2.get_last_lr()))
    np.testing.assert_array_equal(np.array(rest), full[10:])


def test_scheduler_step_before_optimizer_step_warns():
    opt = two_group_sgd()
    sched = S.StepLR(opt, 7)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    opt = two_group_sgd()
    sched = S.StepLR(opt, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()  # the right order: no warning


def test_changing_the_lr_keeps_the_optimizer_state():
    p = Parameter(np.array([1.0, -2.0]))
    opt = Adam([p], lr=0.1)
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    for t in range(3):
        p.grad = minitune.tensor(np.array([0.5, -1.0]))
        opt.step()
        state = opt.state[p]
        exp_avg, step = state["exp_avg"], state["step"].item()
        sched.step()
        assert opt.state[p]["exp_avg"] is exp_avg and opt.state[p]["step"].item() == step == t + 1
    assert opt.param_groups[0]["lr"] == 0.1 * 0.5 ** 3


@pytest.mark.parametrize("make,message", [
    (lambda o: S.LinearLR(o, start_factor=0), "Starting multiplicative factor"),
    (lambda o: S.LinearLR(o, end_factor=1.5), "Ending multiplicative factor"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 3)], milestones=[2]), "one more than the number of milestone"),
    (lambda o: S.SequentialLR(o, [], milestones=[]), "at least one scheduler"),
    (lambda o: S.SequentialLR(o, [S.StepLR(two_group_sgd(), 3), S.StepLR(o, 3)], milestones=[2]), "same optimizer"),
])
def test_invalid_schedule_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(two_group_sgd())


def test_scheduler_needs_an_optimizer_and_initial_lr_to_resume():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.StepLR(object(), 3)
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(two_group_sgd(), 3, last_epoch=4)
