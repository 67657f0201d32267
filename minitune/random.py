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


def seed():
    """Seed the global generator with a fresh random seed (from the OS) and return it, as ``torch.seed``."""
    return manual_seed(int(np.random.SeedSequence().entropy % (2**63)))


class Generator(np.random.Generator):
    """``minitune.Generator()``: a generator of its own, for ``generator=`` arguments (``randn``,
    ``random_split``, …).  ``Generator().manual_seed(42)`` reseeds it and returns it, as in torch;
    ``device`` may only be the CPU."""

    def __init__(self, device="cpu"):
        if str(device).partition(":")[0] != "cpu":
            raise RuntimeError(f"Generator: minitune runs on the CPU only, got device={str(device)!r}")
        super().__init__(np.random.PCG64(0))
        self._seed = 0

    def manual_seed(self, seed):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self.bit_generator.state = np.random.PCG64(self._seed).state
        return self

    def initial_seed(self):
        return self._seed


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
