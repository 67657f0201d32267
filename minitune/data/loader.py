"""``DataLoader`` and ``TensorDataset``: batches of minitune tensors, prepared ahead by threads.

One epoch:
    order   = shuffle_generator(seed, epoch).permutation(N)   if shuffle else 0..N-1
    batches = order split into chunks of batch_size (the last one dropped if drop_last and short)
    sample  = dataset[i] inside use_generator(sample_generator(seed, epoch, i))
    batch   = collate_fn([sample, ...])   (default: stack → Tensor, ints → int64 Tensor)

Each sample draws its augmentation from its own generator, so a seed fixes the order and
every crop and flip whatever ``num_workers`` is and whatever order the threads finish in.
``seed=None`` draws a fresh base seed from ``minitune.random.default_generator()`` at each
``iter()`` (so ``minitune.manual_seed`` makes it reproducible).  The epoch is an internal
counter, advanced by each ``iter()``; ``set_epoch(e)`` sets the epoch of the next one.

With ``num_workers > 0`` a ``ThreadPoolExecutor`` decodes and transforms samples
(Pillow's decoding and resizing release the GIL), keeping ``prefetch_factor * num_workers``
batches in flight so that the next batches are ready while the model trains.  Abandoning
the iterator (``break``) cancels what has not started and lets the threads exit.

Differences from torch: threads instead of processes; no ``sampler``/``pin_memory``; with
``num_workers=0`` augmentation still uses per-sample generators, not the global one.
"""
import collections
import concurrent.futures
import numbers

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor
from .generator import sample_generator, shuffle_generator, use_generator


class TensorDataset:
    """``TensorDataset(*tensors)``: sample ``i`` is ``tuple(t[i] for t in tensors)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
        sizes = [a.shape[0] if a.ndim else None for a in arrays]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: all tensors need the same first dimension, got shapes "
                             f"{[tuple(a.shape) for a in arrays]}")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(a) for t, a in zip(tensors, arrays))

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(Tensor._wrap(t.data[index]) for t in self.tensors)


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts.

    Tensors and arrays → ``Tensor`` of shape (N, ...) keeping their dtype; Python/numpy
    ints → int64 Tensor (N,); floats → float64 Tensor (N,) as torch's ``default_collate``.
    """
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray)):
        arrays = [b.data if isinstance(b, Tensor) else np.asarray(b) for b in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: samples have different shapes {sorted(shapes)}; "
                             "resize/crop them to one size")
        return Tensor(np.stack(arrays))
    if isinstance(first, (bool, np.bool_)):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise ValueError("default_collate: samples have different numbers of fields")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; the dataset should "
                    "return Tensors, arrays or numbers (did you forget ToTensor()?)")


class DataLoader:
    """Iterate a dataset in batches; see the module docstring for order, seeding and workers."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, num_workers=0, seed=None,
                 collate_fn=None, prefetch_factor=2):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader needs a dataset with __len__ and __getitem__, got {type(dataset).__name__}")
        for name, value, low in (("batch_size", batch_size, 1), ("num_workers", num_workers, 0),
                                 ("prefetch_factor", prefetch_factor, 1)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ValueError(f"DataLoader: {name} must be an int >= {low}, got {value!r}")
        if seed is not None and (not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"DataLoader: seed must be a non-negative int or None, got {seed!r}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, int(batch_size), bool(shuffle), \
            bool(drop_last)
        self.num_workers, self.seed, self.prefetch_factor = int(num_workers), seed, int(prefetch_factor)
        self.collate_fn = collate_fn if collate_fn is not None else default_collate
        self.epoch = 0

    def set_epoch(self, epoch):
        """The next ``iter()`` runs epoch ``epoch`` (its order and augmentations)."""
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"set_epoch expects a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def batch_indices(self, epoch, seed):
        """The list of index lists of one epoch."""
        n = len(self.dataset)
        order = shuffle_generator(seed, epoch).permutation(n) if self.shuffle else np.arange(n)
        batches = [order[i:i + self.batch_size].tolist() for i in range(0, n, self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def __iter__(self):
        seed = self.seed if self.seed is not None else int(_random.default_generator().integers(0, 2**63 - 1))
        epoch = self.epoch
        self.epoch += 1
        return _BatchIterator(self, self.batch_indices(epoch, seed), seed, epoch)

    def __repr__(self):
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers}, seed={self.seed})")


def _load_sample(dataset, index, seed, epoch):
    with use_generator(sample_generator(seed, epoch, index)):
        return dataset[index]


class _BatchIterator:
    """One epoch's batches; with workers, a window of batches is always being prepared."""

    def __init__(self, loader, batches, seed, epoch):
        self.loader, self.seed, self.epoch = loader, seed, epoch
        self.batches = collections.deque(batches)
        self.pending = collections.deque()  # lists of futures, in batch order
        self.executor = None
        if loader.num_workers > 0 and self.batches:
            self.executor = concurrent.futures.ThreadPoolExecutor(loader.num_workers,
                                                                  thread_name_prefix="minitune-data")
            for _ in range(loader.prefetch_factor * loader.num_workers):
                self._submit_next()

    def _submit_next(self):
        if self.batches:
            indices = self.batches.popleft()
            data = self.loader.dataset
            self.pending.append([self.executor.submit(_load_sample, data, i, self.seed, self.epoch)
                                 for i in indices])

    def __iter__(self):
        return self

    def __len__(self):
        return len(self.batches) + len(self.pending)

    def __next__(self):
        if self.executor is None:
            if not self.batches:
                raise StopIteration
            indices = self.batches.popleft()
            samples = [_load_sample(self.loader.dataset, i, self.seed, self.epoch) for i in indices]
            return self.loader.collate_fn(samples)
        if not self.pending:
            self.close()
            raise StopIteration
        futures = self.pending.popleft()
        self._submit_next()  # keep the window full while this batch is collated and used
        try:
            samples = [f.result() for f in futures]
        except BaseException:
            self.close()
            raise
        return self.loader.collate_fn(samples)

    def close(self):
        """Cancel batches not started and let the worker threads exit (without waiting)."""
        if self.executor is not None:
            for futures in self.pending:
                for f in futures:
                    f.cancel()
            self.pending.clear()
            self.batches.clear()
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None

    def __del__(self):
        if getattr(self, "executor", None) is not None:
            self.close()
