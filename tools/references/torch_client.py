"""Reference fixtures for issue 15's differences from torch: the table ``tests/torch_client_cases.py``
run with torch, plus torchvision's ``ToTensor`` dtype rule.

For each case: the inputs ``in<i>``, the outputs ``out<k>`` and, when an output requires grad,
a random upstream gradient ``g<k>`` and the gradient ``grad<i>`` of every float input of
L = Σₖ ⟨gₖ, outₖ⟩ (zeros where an input is not used).
"""
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))
from torch_client_cases import CASES, run_case, seed  # noqa: E402


def _torch_tensor(array, requires_grad):
    return torch.tensor(array, requires_grad=requires_grad)


def _to_tensor_torchvision(array):
    """torchvision's ``to_tensor`` for an HWC ndarray, restated (torchvision is not installed here):
    ``torch.from_numpy(pic.transpose((2, 0, 1))).contiguous()``, and uint8 → ``.to(float32).div(255)``."""
    img = torch.from_numpy(np.ascontiguousarray(array.transpose((2, 0, 1)))).contiguous()
    return img.to(dtype=torch.float32).div(255) if img.dtype == torch.uint8 else img


def make(save):
    for name in CASES:
        rng = np.random.default_rng(seed(name) + 1)
        inputs, tensors, outs = run_case(torch, name, _torch_tensor)
        arrays = {f"in{i}": a for i, a in enumerate(inputs)}
        loss = None
        for k, o in enumerate(outs):
            arrays[f"out{k}"] = o.detach().numpy().copy()
            if o.requires_grad:
                g = torch.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype)
                arrays[f"g{k}"] = g.numpy()
                term = (o * g).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
            for i, t in enumerate(tensors):
                if t.requires_grad:
                    arrays[f"grad{i}"] = (torch.zeros_like(t) if t.grad is None else t.grad).numpy().copy()
        save(name, **arrays)
    rng = np.random.default_rng(seed("to_tensor"))
    for dtype in ("uint8", "float64", "float32", "int32", "int16", "int64", "bool"):
        x = (rng.integers(0, 256, size=(3, 4, 2)) if dtype != "bool" else rng.integers(0, 2, size=(3, 4, 2)))
        x = x.astype(dtype) if dtype != "float64" else rng.standard_normal((3, 4, 2))
        save(f"to_tensor_{dtype}", x=x, y=_to_tensor_torchvision(x).numpy())
