"""``minitune.utils.data``: torch's ``torch.utils.data`` names in one place.

``DataLoader``, ``TensorDataset`` and ``default_collate`` are minitune's own (``minitune/data/loader.py``:
threads, per-sample generators); ``Dataset``, ``Subset`` and ``random_split`` are here:

* ``Dataset``: the base class a custom dataset subclasses (``__getitem__``, ``__len__``); ``a + b``
  concatenates two datasets (``ConcatDataset``), as in torch.
* ``Subset(dataset, indices)``: sample i is ``dataset[indices[i]]``.
* ``random_split(dataset, lengths, generator=None)``: a random permutation of the indices cut into
  pieces of the given ``lengths`` — integers summing to ``len(dataset)``, or fractions summing to 1
  (each piece gets ⌊f·N⌋ and the remainder is handed out one by one from the first piece, as torch).
  The permutation comes from ``generator`` (a ``minitune.Generator`` or any numpy ``Generator``) or
  minitune's global generator; the split differs from torch's for the same seed (other streams).
"""
import bisect
import math

import numpy as np

from .. import random as _random
from ..data.loader import DataLoader, TensorDataset, default_collate  # noqa: F401


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` (and ``__len__``)."""

    def __getitem__(self, index):
        raise NotImplementedError("a Dataset subclass must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of length {len(self)}")
        d = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if d == 0 else int(self.cumulative_sizes[d - 1])
        return self.datasets[d][index - start]


class Subset(Dataset):
    """``Subset(dataset, indices)``: sample i is ``dataset[indices[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


def _split_lengths(n, lengths):
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for f in lengths:
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction {f} is not between 0 and 1")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({n})")
    return [int(k) for k in lengths]


def random_split(dataset, lengths, generator=None):
    """Randomly split ``dataset`` into non-overlapping ``Subset``s of the given lengths (or fractions)."""
    counts = _split_lengths(len(dataset), list(lengths))
    rng = generator if generator is not None else _random.default_generator()
    order = rng.permutation(len(dataset))
    out, start = [], 0
    for k in counts:
        out.append(Subset(dataset, order[start:start + k]))
        start += k
    return out
