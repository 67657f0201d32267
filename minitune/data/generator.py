"""Where random transforms take their randomness: a per-thread generator scope.

torchvision's random transforms draw from torch's global generator, so with worker
processes the augmentation of a sample depends on which worker drew it and when.
minitune instead gives each sample its own ``numpy.random.Generator``, derived from
``(seed, epoch, index)`` by ``sample_generator``; the ``DataLoader`` installs it with
``use_generator`` around ``dataset[index]``, and every random transform asks
``current_generator()``.  The scope is thread-local, so worker threads do not disturb
each other, and the same seed gives the same augmentations whatever the number of
workers and whatever order they finish in.

Outside any scope, ``current_generator()`` is ``minitune.random.default_generator()``
(reseeded by ``minitune.manual_seed``), as torch's transforms use the global generator.
"""
import contextlib
import threading

import numpy as np

from .. import random as _random

_local = threading.local()

# Tags keep the shuffling stream and the per-sample streams apart (SeedSequence entropy).
SHUFFLE_TAG = 1
SAMPLE_TAG = 2


def current_generator():
    """The generator random transforms draw from in this thread."""
    rng = getattr(_local, "generator", None)
    return rng if rng is not None else _random.default_generator()


@contextlib.contextmanager
def use_generator(generator):
    """Make ``generator`` (a ``numpy.random.Generator``) the current one in this thread."""
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"use_generator expects a numpy.random.Generator, got {type(generator).__name__}")
    previous = getattr(_local, "generator", None)
    _local.generator = generator
    try:
        yield generator
    finally:
        _local.generator = previous


def _entropy(seed, *keys):
    for k in (seed, *keys):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
            raise ValueError(f"seed, epoch and index must be non-negative integers, got {(seed, *keys)}")
    return [int(seed), *(int(k) for k in keys)]


def shuffle_generator(seed, epoch):
    """The generator of the sample order of one epoch: ``default_rng([seed, epoch, SHUFFLE_TAG])``."""
    return np.random.default_rng(_entropy(seed, epoch, SHUFFLE_TAG))


def sample_generator(seed, epoch, index):
    """The generator of one sample's augmentation: ``default_rng([seed, epoch, SAMPLE_TAG, index])``."""
    return np.random.default_rng(_entropy(seed, epoch, SAMPLE_TAG, index))
