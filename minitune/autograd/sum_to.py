"""``sum_to``: undo broadcasting in a gradient.

If y = f(a, b) broadcasts a of shape (3, 1) against b of shape (4,) to (3, 4), each a[i, 0]
was used four times, so dL/da[i, 0] = Σ_j g[i, j].  In general: sum g over the leading axes
that broadcasting added, and over every axis where the input had size 1 (keeping it).
"""
import numpy as np


def sum_to(grad, shape):
    """Reduce ``grad`` (a broadcast shape) to ``shape`` by summing the broadcast axes."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to: cannot reduce a gradient of shape {grad.shape} to the larger shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    for i, n in enumerate(shape):
        if n != 1 and grad.shape[lead + i] != n:
            raise ValueError(f"sum_to: gradient shape {grad.shape} is not a broadcast of {shape}")
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    return out.reshape(shape) if lead else out
