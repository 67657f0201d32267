"""Tensor constructors mirroring torch's: ``tensor``, ``zeros``, ``ones``, ``randn``, ``arange``, …

Shapes may be given as ``zeros(2, 3)`` or ``zeros((2, 3))``.  ``device=`` is accepted as in torch:
``None``, ``"cpu"`` or ``minitune.device("cpu")``; any other device raises ``RuntimeError``.  The default dtype is float32;
``arange`` with integer arguments gives int64, as in torch.
"""
import numpy as np

from .. import random as _random
from .devices import check_device
from .dtypes import check_dtype, float32, int64, to_array
from .tensor import Tensor


def _cpu(device):
    check_device(device, "device argument")  # minitune computes on the CPU only


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _make(array, dtype, requires_grad):
    t = Tensor(array, dtype=dtype if dtype is not None else None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data`` (nested lists, numbers or an array)."""
    _cpu(device)
    arr = np.array(to_array(data, dtype), copy=True)
    return _make(arr, None, requires_grad)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an np.ndarray, got {type(array).__name__}")
    return Tensor(array)


def as_tensor(data, dtype=None, device=None):
    _cpu(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(to_array(data, dtype))


def zeros(*size, dtype=float32, requires_grad=False, device=None):
    _cpu(device)
    return _make(np.zeros(_shape(size), dtype=check_dtype(dtype)), None, requires_grad)


def ones(*size, dtype=float32, requires_grad=False, device=None):
    _cpu(device)
    return _make(np.ones(_shape(size), dtype=check_dtype(dtype)), None, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    _cpu(device)
    if dtype is None:
        dtype = float32 if isinstance(fill_value, float) else (np.bool_ if isinstance(fill_value, bool) else int64)
    return _make(np.full(_shape((size,)), fill_value, dtype=check_dtype(dtype)), None, requires_grad)


def empty(*size, dtype=float32, requires_grad=False, device=None):
    _cpu(device)
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def eye(n, m=None, dtype=float32, requires_grad=False, device=None):
    _cpu(device)
    return _make(np.eye(n, m, dtype=check_dtype(dtype)), None, requires_grad)


def randn(*size, dtype=float32, requires_grad=False, generator=None, device=None):
    """Samples of N(0, 1) from minitune's seeded generator."""
    _cpu(device)
    rng = generator or _random.default_generator()
    return _make(rng.standard_normal(_shape(size)).astype(check_dtype(dtype)), None, requires_grad)


def rand(*size, dtype=float32, requires_grad=False, generator=None, device=None):
    """Samples of U[0, 1) from minitune's seeded generator."""
    _cpu(device)
    rng = generator or _random.default_generator()
    return _make(rng.random(_shape(size)).astype(check_dtype(dtype)), None, requires_grad)


def randint(low, high=None, size=(), dtype=int64, generator=None, device=None):
    _cpu(device)
    if high is None:
        low, high = 0, low
    rng = generator or _random.default_generator()
    return Tensor(rng.integers(low, high, size=_shape((size,))).astype(check_dtype(dtype)))


def randperm(n, generator=None, device=None):
    _cpu(device)
    rng = generator or _random.default_generator()
    return Tensor(rng.permutation(n).astype(np.int64))


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    _cpu(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else float32
    return _make(np.arange(start, end, step).astype(check_dtype(dtype)), None, requires_grad)


def linspace(start, end, steps, dtype=float32, requires_grad=False, device=None):
    _cpu(device)
    return _make(np.linspace(start, end, steps).astype(check_dtype(dtype)), None, requires_grad)


def _like(t, fn, dtype, requires_grad):
    dt = t.dtype if dtype is None else check_dtype(dtype)
    return _make(fn(t.shape).astype(dt), None, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    _cpu(device)
    return _like(t, np.zeros, dtype, requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    _cpu(device)
    return _like(t, np.ones, dtype, requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    _cpu(device)
    return _like(t, lambda s: np.full(s, fill_value), dtype, requires_grad)


def randn_like(t, dtype=None, requires_grad=False, device=None):
    _cpu(device)
    return _like(t, lambda s: _random.default_generator().standard_normal(s), dtype, requires_grad)


def rand_like(t, dtype=None, requires_grad=False, device=None):
    _cpu(device)
    return _like(t, lambda s: _random.default_generator().random(s), dtype, requires_grad)
