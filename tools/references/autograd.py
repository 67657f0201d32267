"""Reference values for the autograd op table ``tests/autograd_cases.py``.

For every case and dtype (float64, float32): the inputs, the output, a random upstream
gradient g and the input gradients torch computes for it.
"""
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))
from autograd_cases import CASES, make_inputs, seed  # noqa: E402


def make(save):
    for dtype, tdtype in (("float64", torch.float64), ("float32", torch.float32)):
        arrays = {}
        for name, shapes, domain, fn in CASES:
            rng = np.random.default_rng(seed(name))
            inputs = make_inputs(rng, shapes, domain)
            ts = [torch.tensor(x, dtype=tdtype, requires_grad=True) for x in inputs]
            out = fn(torch, *ts)
            g = torch.tensor(rng.standard_normal(tuple(out.shape)), dtype=tdtype)
            grads = torch.autograd.grad(out, ts, g, allow_unused=True)
            for i, (x, gr) in enumerate(zip(ts, grads)):
                arrays[f"{name}__in{i}"] = x.detach().numpy()
                arrays[f"{name}__grad{i}"] = (torch.zeros_like(x) if gr is None else gr).numpy()
            arrays[f"{name}__out"] = out.detach().numpy()
            arrays[f"{name}__gout"] = g.numpy()
        save(dtype, **arrays)
