"""Live comparison with an installed torch: the op table on fresh random inputs (skips without torch)."""
import numpy as np
import pytest

import minitune
from autograd_cases import CASES, make_inputs

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.autograd, pytest.mark.live_torch]


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("name, shapes, domain, fn", CASES, ids=[c[0] for c in CASES])
def test_random_inputs_match_torch(name, shapes, domain, fn, seed):
    rng = np.random.default_rng(seed)
    inputs = make_inputs(rng, shapes, domain)
    ts = [torch.tensor(x, requires_grad=True) for x in inputs]
    ms = [minitune.tensor(x, requires_grad=True) for x in inputs]
    out_t, out_m = fn(torch, *ts), fn(minitune, *ms)
    np.testing.assert_allclose(out_m.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(out_t.shape))
    grads = torch.autograd.grad(out_t, ts, torch.tensor(g), allow_unused=True)
    out_m.backward(g)
    for m, gt in zip(ms, grads):
        expected = np.zeros(m.shape) if gt is None else gt.numpy()
        got = np.zeros(m.shape) if m.grad is None else m.grad.data
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_relu_inplace_matches_torch():
    """F.relu(h, inplace=True) inside a graph: the same tensor comes back with a ReLU grad_fn, the same
    values, and the same gradients as torch's relu_, here where torch's version check has nothing to say."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    results = []
    for lib in (torch, minitune):
        xt = lib.tensor(x, requires_grad=True)
        h = xt * 2 - 0.5
        assert lib.nn.functional.relu(h, inplace=True) is h
        (h * lib.tensor(w)).sum().backward()
        results.append((h.detach().numpy().copy(), xt.grad.numpy().copy(), h.grad_fn.name()))
    (ht, gt, nt), (hm, gm, nm) = results
    np.testing.assert_array_equal(hm, ht)
    np.testing.assert_array_equal(gm, gt)
    assert nt.lower() == nm.lower()  # torch's ReluBackward0, minitune's ReLUBackward0
