"""DataLoader: batch shapes and dtypes, drop_last, seeded order and augmentation with and without
worker threads, epochs, abandoning an iterator, errors."""
import threading

import numpy as np
import pytest

import minitune
from minitune import Tensor
from minitune.data import DataLoader, SyntheticImages, TensorDataset, default_collate
from minitune.data import transforms as T

pytestmark = pytest.mark.data


def augmented_dataset(n_per_class=6):
    transform = T.Compose([T.RandomResizedCrop(16), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD)])
    return SyntheticImages(n_per_class, image_size=24, transform=transform)


def epoch_arrays(loader):
    batches = list(loader)
    return np.concatenate([x.data for x, _ in batches]), np.concatenate([y.data for _, y in batches])


@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (10, 4, False, [4, 4, 2]),
    (10, 4, True, [4, 4]),
    (8, 4, True, [4, 4]),
    (3, 5, False, [3]),
    (3, 5, True, []),
])
def test_tensor_dataset_batches(n, batch_size, drop_last, sizes):
    x = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)
    y = np.arange(n, dtype=np.int64)
    loader = DataLoader(TensorDataset(Tensor(x), Tensor(y)), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) and [b[0].shape for b in batches] == [(s, 2, 3) for s in sizes]
    if sizes:
        assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
        assert np.array_equal(np.concatenate([b[1].data for b in batches]), y[:sum(sizes)])  # no shuffle: in order


def test_image_batches_are_float32_nchw_with_int64_labels():
    images, labels = next(iter(DataLoader(augmented_dataset(), batch_size=5, num_workers=2, seed=0)))
    assert isinstance(images, Tensor) and images.shape == (5, 3, 16, 16) and images.dtype == np.float32
    assert isinstance(labels, Tensor) and labels.shape == (5,) and labels.dtype == np.int64


def test_same_seed_same_order_and_augmentation_with_0_and_2_workers():
    ds = augmented_dataset()
    x0, y0 = epoch_arrays(DataLoader(ds, batch_size=4, shuffle=True, seed=3, num_workers=0))
    x2, y2 = epoch_arrays(DataLoader(ds, batch_size=4, shuffle=True, seed=3, num_workers=2))
    assert np.array_equal(y0, y2) and np.array_equal(x0, x2)
    x_other, y_other = epoch_arrays(DataLoader(ds, batch_size=4, shuffle=True, seed=4, num_workers=2))
    assert not np.array_equal(x0, x_other)
    assert sorted(y0.tolist()) == sorted(y_other.tolist()) == sorted(ds.targets)


def test_epochs_reshuffle_and_set_epoch_replays_one():
    ds = TensorDataset(np.arange(20, dtype=np.float32), np.arange(20))
    loader = DataLoader(ds, batch_size=20, shuffle=True, seed=0)
    first, second = (next(iter(loader))[1].data.tolist() for _ in range(2))
    assert first != second and sorted(first) == list(range(20))
    loader.set_epoch(0)
    assert next(iter(loader))[1].data.tolist() == first
    assert loader.epoch == 1


def test_seed_none_follows_manual_seed():
    ds = TensorDataset(np.arange(12, dtype=np.float32))
    orders = []
    for _ in range(2):
        minitune.manual_seed(7)
        orders.append(next(iter(DataLoader(ds, batch_size=12, shuffle=True)))[0].data.tolist())
    assert orders[0] == orders[1]


def test_plain_dataset_of_arrays_and_ints():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((2, 2), i * i, dtype=np.float32), i

    x, y = next(iter(DataLoader(Squares(), batch_size=5, num_workers=2)))
    assert x.shape == (5, 2, 2) and x.data[:, 0, 0].tolist() == [0, 1, 4, 9, 16] and y.dtype == np.int64


class GatedDataset:
    """Samples 0 and 1 come at once; every other sample waits until ``release`` is set, so what the
    workers have started when the consumer stops is known exactly, whatever the machine's speed."""

    def __init__(self, n=64, fail_at=None):
        self.n, self.fail_at = n, fail_at
        self.release = threading.Event()
        self.started, self._lock = [], threading.Lock()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        with self._lock:
            self.started.append(i)
        if i == self.fail_at:
            raise ValueError(f"sample {i} is bad")
        if i >= 2:
            self.release.wait()
        return np.zeros(3, np.float32), i


def _data_threads():
    return [t for t in threading.enumerate() if t.name.startswith("minitune-data")]


def test_abandoned_iterator_stops_its_threads():
    """After ``break`` the iterator is closed: the queued batches are cancelled, and the two workers,
    blocked in samples 2 and (if it had started) 3, exit once those return.  No sample after 3 starts."""
    ds = GatedDataset()
    for _ in DataLoader(ds, batch_size=2, num_workers=2):
        break
    ds.release.set()
    for t in _data_threads():
        t.join()  # no timeout: every thread is released above, so a hang here is the bug itself
    assert _data_threads() == []
    assert {0, 1} <= set(ds.started) <= {0, 1, 2, 3}


def test_worker_error_propagates_and_stops_threads():
    ds = GatedDataset(fail_at=1)
    with pytest.raises(ValueError, match="sample 1"):
        list(DataLoader(ds, batch_size=2, num_workers=2))
    ds.release.set()
    for t in _data_threads():
        t.join()
    assert _data_threads() == []
    assert max(ds.started) <= 3  # the error stopped the epoch: nothing queued behind the blocked workers ran


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(num_workers=-1), ValueError, "num_workers"),
    (dict(seed=-1), ValueError, "seed"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(TensorDataset(np.zeros(3)), **kwargs)


def test_collate_errors_are_clear():
    from PIL import Image
    with pytest.raises(TypeError, match="ToTensor"):
        default_collate([(Image.new("RGB", (2, 2)), 0)])
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros((3, 2, 2)), np.zeros((3, 4, 4))])
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(object())
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))


def test_hymenoptera_val_with_and_without_workers(hymenoptera):
    from minitune.data import ImageFolder
    transform = T.Compose([T.RandomResizedCrop(32), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD)])
    val = ImageFolder(hymenoptera / "val", transform=transform)
    loaders = [DataLoader(val, batch_size=4, shuffle=True, seed=1, num_workers=w) for w in (0, 2)]
    assert len(loaders[0]) == 39  # 153 = 38 · 4 + 1: the last batch holds one image
    (x0, y0), (x2, y2) = (epoch_arrays(loader) for loader in loaders)
    assert x0.shape == (153, 3, 32, 32) and np.array_equal(x0, x2) and np.array_equal(y0, y2)
    assert np.bincount(y0).tolist() == [70, 83]
