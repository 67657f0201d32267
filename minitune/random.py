"""The global random generator: ``manual_seed`` makes initialization, dropout, data
shuffling and augmentation reproducible.

minitune draws from one ``numpy.random.Generator`` (PCG64).  The streams differ from
torch's, so the same seed gives the same numbers run after run, but not torch's numbers.
"""
import numpy as np

_generator = np.random.default_rng(0)
_seed = 0


def manual_seed(seed):
    """Reseed the global generator; returns it (torch returns a Generator too)."""
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed():
    return _seed


def default_generator():
    """The generator that every random minitune function draws from."""
    return _generator


def fork(seed=None):
    """A new independent generator: from ``seed`` if given, otherwise drawn from the global one."""
    if seed is None:
        seed = int(_generator.integers(0, 2**63 - 1))
    return np.random.default_rng(seed)
