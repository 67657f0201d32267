"""F.batch_norm: gradcheck, torch fixtures over several training steps (momentum 0.1 and cumulative), eval, errors."""
import numpy as np
import pytest
from conftest import load_reference

import minitune
import minitune.nn.functional as F

pytestmark = pytest.mark.kernels


def _t(a, requires_grad=True):
    return minitune.tensor(np.asarray(a), requires_grad=requires_grad)


# (shape, training, affine, running statistics)
GRID = [
    ((4, 3, 3, 2), True, True, True),
    ((3, 2, 5), True, False, False),
    ((5, 3), True, True, False),
    ((1, 2, 2, 3), True, True, True),      # batch 1: the statistics come from H·W
    ((2, 3, 3, 3), False, True, True),     # eval: running statistics are constants
    ((2, 2, 4, 3), False, False, True),
]


@pytest.mark.parametrize("shape,training,affine,running", GRID)
def test_gradcheck(shape, training, affine, running):
    rng = np.random.default_rng(0)
    C = shape[1]
    x = _t(rng.standard_normal(shape) * 2 + 0.5)
    inputs = [x]
    if affine:
        inputs += [_t(rng.standard_normal(C)), _t(rng.standard_normal(C))]
    rm = minitune.tensor(rng.standard_normal(C)) if running else None
    rv = minitune.tensor(rng.random(C) + 0.5) if running else None

    def fn(x, w=None, b=None):
        # the momentum 0 keeps the running statistics fixed across gradcheck's many forwards
        return F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.0)

    minitune.gradcheck(fn, inputs)


TOL = {"f64": dict(rtol=1e-9, atol=1e-9), "f32": dict(rtol=1e-4, atol=1e-4)}


@pytest.mark.parametrize("tag", ["f64", "f32"])
@pytest.mark.parametrize("mode", ["momentum", "cumulative"])
def test_training_steps_and_eval_match_torch(mode, tag):
    """Three training steps (outputs, gradients, running statistics), then eval, as nn.BatchNorm2d."""
    ref = load_reference(f"kernels_batch_norm_{mode}_{tag}")
    dt = ref["x0"].dtype
    rm, rv = minitune.zeros(3, dtype=dt), minitune.ones(3, dtype=dt)
    for step in range(3):
        w, b = _t(ref["weight"]), _t(ref["bias"])
        x = _t(ref[f"x{step}"])
        momentum = 0.1 if mode == "momentum" else 1.0 / (step + 1)  # nn.BatchNorm2d(momentum=None)
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum)
        y.backward(minitune.tensor(ref[f"g{step}"]))
        for name, got in (("y", y), ("gx", x.grad), ("gw", w.grad), ("gb", b.grad)):
            np.testing.assert_allclose(got.data, ref[f"{name}{step}"], **TOL[tag], err_msg=f"{name}, step {step}")
        np.testing.assert_allclose(rm.data, ref[f"running_mean{step}"], **TOL[tag], err_msg=f"running_mean, step {step}")
        np.testing.assert_allclose(rv.data, ref[f"running_var{step}"], **TOL[tag], err_msg=f"running_var, step {step}")
    w, b, x = _t(ref["weight"]), _t(ref["bias"]), _t(ref["x_eval"])
    y = F.batch_norm(x, rm, rv, w, b, training=False)
    y.backward(minitune.tensor(ref["g_eval"]))
    for name, got in (("y", y), ("gx", x.grad), ("gw", w.grad), ("gb", b.grad)):
        np.testing.assert_allclose(got.data, ref[f"{name}_eval"], **TOL[tag], err_msg=f"{name}, eval")
    np.testing.assert_allclose(rm.data, ref["running_mean2"], **TOL[tag], err_msg="eval must not touch running_mean")


@pytest.mark.parametrize("tag", ["f64", "f32"])
def test_2d_input_without_affine_matches_torch(tag):
    ref = load_reference(f"kernels_batch_norm_2d_noaffine_{tag}")
    x = _t(ref["x"])
    y = F.batch_norm(x, None, None, training=True)
    y.backward(minitune.tensor(ref["g"]))
    np.testing.assert_allclose(y.data, ref["y"], **TOL[tag])
    np.testing.assert_allclose(x.grad.data, ref["gx"], **TOL[tag])


# (input shape, kwargs, error, message)
BAD = [
    ((1, 3, 1, 1), dict(training=True), ValueError, r"Expected more than 1 value per channel when training, got input size \(1, 3, 1, 1\)"),
    ((2, 3, 4, 4), dict(training=False, running=False), ValueError, "running_mean must be defined in evaluation mode"),
    ((2, 3, 4, 4), dict(weight=(4,)), ValueError, r"weight must have shape \(3,\)"),
    ((3,), dict(training=True), ValueError, "at least 2 dimensions"),
    ((2, 3, 4, 4), dict(training=True, momentum=None), TypeError, "num_batches_tracked"),
    ((2, 3, 4, 4), dict(running_dtype=minitune.float64), TypeError, "running_mean has dtype float64"),
]


@pytest.mark.parametrize("shape,kwargs,err,message", BAD)
def test_bad_arguments(shape, kwargs, err, message):
    kwargs = dict(kwargs)
    running, dt = kwargs.pop("running", True), kwargs.pop("running_dtype", minitune.float32)
    if "weight" in kwargs:
        kwargs["weight"] = minitune.ones(*kwargs["weight"])
    rm = minitune.zeros(3, dtype=dt) if running else None
    rv = minitune.ones(3, dtype=dt) if running else None
    with pytest.raises(err, match=message):
        F.batch_norm(minitune.zeros(*shape), rm, rv, **kwargs)
