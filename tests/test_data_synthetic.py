"""Synthetic datasets: deterministic, any size, distinct classes, learnable, written as an ImageFolder."""
import numpy as np
import pytest
from PIL import Image

from minitune.data import ImageFolder, SyntheticImages, synthetic_train_val, write_image_folder
from minitune.data import transforms as T
from minitune.data.synthetic import TASKS

pytestmark = pytest.mark.data


def pixels(ds, i):
    return np.asarray(ds.image(i))


@pytest.mark.parametrize("task", sorted(TASKS))
def test_deterministic_for_a_seed_and_split(task):
    a, b = SyntheticImages(3, 32, task=task, seed=1), SyntheticImages(3, 32, task=task, seed=1)
    assert all(np.array_equal(pixels(a, i), pixels(b, i)) for i in range(len(a)))
    other_seed = SyntheticImages(3, 32, task=task, seed=2)
    other_split = SyntheticImages(3, 32, task=task, seed=1, split="val")
    assert not any(np.array_equal(pixels(a, i), pixels(other_seed, i)) for i in range(len(a)))
    assert not any(np.array_equal(pixels(a, i), pixels(other_split, i)) for i in range(len(a)))


@pytest.mark.parametrize("size", [8, 17, 64, 150])
def test_any_size(size):
    img, target = SyntheticImages(1, size, task="shapes")[3]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (size, size) and target == 3


def test_classes_targets_and_transform():
    ds = SyntheticImages(2, 16, task="textures", classes=["vertical_stripes", "dots"], transform=T.ToTensor())
    assert ds.classes == ["dots", "vertical_stripes"] and ds.targets == [0, 0, 1, 1] and len(ds) == 4
    x, y = ds[2]
    assert x.shape == (3, 16, 16) and y == 1
    assert SyntheticImages(5, 16).classes == ["circle", "cross", "square", "triangle"]


def spectrum_features(ds):
    """log |FFT| of the grey image: a translation-invariant linear probe."""
    feats = []
    for i in range(len(ds)):
        g = np.asarray(ds.image(i), dtype=np.float64).mean(axis=2) / 255
        feats.append(np.log1p(np.abs(np.fft.fft2(g - g.mean()))[:16, :16]).ravel())
    return np.array(feats), np.array(ds.targets)


def nearest_class_mean_accuracy(train, val, features):
    x, y = features(train)
    xv, yv = features(val)
    means = np.array([x[y == c].mean(axis=0) for c in range(len(train.classes))])
    pred = ((xv[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    return (pred == yv).mean()


@pytest.mark.parametrize("task", sorted(TASKS))
def test_learnable_by_a_nearest_class_mean_probe(task):
    train, val = synthetic_train_val(40, 20, image_size=32, task=task)
    # 4 classes: chance is 0.25
    assert nearest_class_mean_accuracy(train, val, spectrum_features) > 0.6


def test_shapes_learnable_by_least_squares_on_pixels():
    train, val = synthetic_train_val(60, 20, image_size=32, task="shapes")

    def grey16(ds):
        x = np.array([np.asarray(ds.image(i).convert("L").resize((16, 16), Image.Resampling.BOX), np.float64).ravel()
                      for i in range(len(ds))]) / 255
        return np.c_[x, np.ones(len(x))], np.array(ds.targets)

    x, y = grey16(train)
    xv, yv = grey16(val)
    w = np.linalg.solve(x.T @ x + 0.1 * np.eye(x.shape[1]), x.T @ np.eye(4)[y])
    assert ((xv @ w).argmax(axis=1) == yv).mean() > 0.45


def test_write_image_folder_round_trip(tmp_path):
    paths = write_image_folder(tmp_path, n_train_per_class=2, n_val_per_class=1, image_size=20, task="textures",
                               seed=3)
    train, val = ImageFolder(paths["train"]), ImageFolder(paths["val"])
    ref_train, ref_val = synthetic_train_val(2, 1, image_size=20, task="textures", seed=3)
    assert train.classes == ref_train.classes and train.targets == ref_train.targets
    assert len(val) == 4 and val.targets == ref_val.targets
    for i in range(len(train)):
        assert np.array_equal(np.asarray(train[i][0]), pixels(ref_train, i))


@pytest.mark.parametrize("kwargs, match", [
    (dict(task="animals"), "unknown synthetic task"),
    (dict(classes=["circle", "dots"]), "must be distinct names"),
    (dict(image_size=4), "image_size"),
    (dict(split="holdout"), "split"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SyntheticImages(2, **kwargs)


def test_source_task_is_deterministic_disjoint_and_has_50_classes():
    from minitune.data.source_task import CLASSES, render_source_task
    from minitune.data.synthetic import TASKS

    assert len(CLASSES) == len(set(CLASSES)) == 50
    target = set(TASKS["shapes"][0])  # the fine-tuning task's classes are not pretraining classes
    assert not target & set(CLASSES) and not any(name.split("_")[0] in target for name in CLASSES)
    x, y = render_source_task(2, size=32, seed=0)
    again, _ = render_source_task(2, size=32, seed=0)
    assert x.shape == (100, 32, 32, 3) and x.dtype == np.uint8 and y.tolist() == [i // 2 for i in range(100)]
    np.testing.assert_array_equal(x, again)
    later, _ = render_source_task(1, size=32, seed=0, start=1)  # sample 1 of each class, on its own
    np.testing.assert_array_equal(later, x[1::2])
    val, _ = render_source_task(2, size=32, seed=0, split="val")
    assert not any((val[i] == x[i]).all() for i in range(100))
