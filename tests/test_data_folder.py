"""ImageFolder: class discovery, extension filter, every Pillow mode → RGB, unreadable files, errors."""
import warnings

import numpy as np
import pytest
from PIL import Image

from minitune.data import (IMG_EXTENSIONS, DataLoader, ImageFolder, check_same_classes, has_file_allowed_extension,
                           to_rgb)
from minitune.data import transforms as T

pytestmark = pytest.mark.data


def _palette_image():
    img = Image.new("P", (4, 4))
    img.putpalette([0, 0, 0, 200, 100, 50] + [0] * (254 * 3))
    img.putpixel((1, 2), 1)
    return img


def _palette_transparent():
    img = _palette_image()
    img.info["transparency"] = 1  # the colour (200, 100, 50) is transparent: its RGB is kept
    return img


# (file name, image builder, pixel (x, y), expected RGB at that pixel)
MODE_CASES = [
    ("palette.png", _palette_image, (1, 2), (200, 100, 50)),
    ("palette_transparent.png", _palette_transparent, (1, 2), (200, 100, 50)),
    ("gray.png", lambda: Image.new("L", (4, 4), 77), (0, 0), (77, 77, 77)),
    ("cmyk_cyan.tif", lambda: Image.new("CMYK", (4, 4), (255, 0, 0, 0)), (0, 0), (0, 255, 255)),
    ("cmyk_black.tif", lambda: Image.new("CMYK", (4, 4), (0, 0, 0, 255)), (0, 0), (0, 0, 0)),
    ("rgba.png", lambda: Image.new("RGBA", (4, 4), (10, 20, 30, 0)), (0, 0), (10, 20, 30)),
    ("la.png", lambda: Image.new("LA", (4, 4), (90, 0)), (0, 0), (90, 90, 90)),
    ("bilevel.png", lambda: Image.new("1", (4, 4), 1), (0, 0), (255, 255, 255)),
    ("gray16_max.png", lambda: Image.fromarray(np.full((4, 4), 65535, np.uint16)), (0, 0), (255, 255, 255)),
    ("gray16_mid.png", lambda: Image.fromarray(np.full((4, 4), 128 * 257, np.uint16)), (0, 0), (128, 128, 128)),
    ("gray16_low.png", lambda: Image.fromarray(np.full((4, 4), 1000, np.uint16)), (0, 0), (4, 4, 4)),
    ("rgb.bmp", lambda: Image.new("RGB", (4, 4), (1, 2, 3)), (0, 0), (1, 2, 3)),
    ("rgb.ppm", lambda: Image.new("RGB", (4, 4), (4, 5, 6)), (0, 0), (4, 5, 6)),
    ("gray.pgm", lambda: Image.new("L", (4, 4), 9), (0, 0), (9, 9, 9)),
    ("upper.PNG", lambda: Image.new("RGB", (4, 4), (7, 8, 9)), (0, 0), (7, 8, 9)),
    ("lossless.webp", lambda: Image.new("RGB", (4, 4), (40, 50, 60)), (0, 0), (40, 50, 60)),
]


@pytest.fixture
def mode_tree(tmp_path):
    root = tmp_path / "modes"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    for name, build, _, _ in MODE_CASES:
        kwargs = {"lossless": True} if name.endswith(".webp") else {}
        build().save(root / "a" / name, **kwargs)
    Image.new("RGB", (4, 4)).save(root / "b" / "x.jpg")
    Image.new("RGB", (4, 4)).save(root / "a" / "ignored.gif")
    (root / "a" / "notes.txt").write_text("not an image")
    return root


def test_extension_filter_matches_torchvision(mode_tree):
    ds = ImageFolder(mode_tree)
    names = sorted(p.rsplit("/", 1)[-1] for p, _ in ds.samples)
    assert names == sorted([c[0] for c in MODE_CASES] + ["x.jpg"])
    assert ds.classes == ["a", "b"] and ds.class_to_idx == {"a": 0, "b": 1}
    assert ds.targets == [t for _, t in ds.samples] and ds.imgs is ds.samples


@pytest.mark.parametrize("name, build, xy, expected", MODE_CASES, ids=[c[0] for c in MODE_CASES])
def test_every_mode_becomes_rgb(mode_tree, name, build, xy, expected):
    ds = ImageFolder(mode_tree)
    index = next(i for i, (p, _) in enumerate(ds.samples) if p.endswith("/" + name))
    img, target = ds[index]
    assert img.mode == "RGB" and target == 0
    assert img.getpixel(xy) == expected


@pytest.mark.parametrize("img, expected", [
    (Image.new("I;16B", (2, 2), 65535), (255, 255, 255)),   # big-endian 16-bit: 65535 / 257 = 255
    (Image.new("I", (2, 2), 257 * 200), (200, 200, 200)),    # 32-bit int holding 16-bit data
    (Image.new("F", (2, 2), 0.5), (128, 128, 128)),          # float in [0, 1]: round(0.5 · 255)
    (Image.new("F", (2, 2), 300.0), (255, 255, 255)),        # float beyond 255: clipped
    (Image.new("RGB", (2, 2), (1, 2, 3)), (1, 2, 3)),
], ids=["I;16B", "I", "F-unit", "F-large", "RGB"])
def test_to_rgb_in_memory_modes(img, expected):
    out = to_rgb(img)
    assert out.mode == "RGB" and out.getpixel((1, 1)) == expected


@pytest.mark.parametrize("filename, allowed", [("a.jpg", True), ("a.JPEG", True), ("a.Tiff", True), ("a.webp", True),
                                               ("a.gif", False), ("a.txt", False), ("a.jpg.bak", False)])
def test_has_file_allowed_extension(filename, allowed):
    assert has_file_allowed_extension(filename) is allowed
    assert ".gif" not in IMG_EXTENSIONS


def test_unreadable_files_skipped_with_one_warning(tmp_path):
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        Image.new("RGB", (5, 5), (1, 1, 1)).save(tmp_path / cls / "good.png")
    (tmp_path / "cat" / "broken.jpg").write_bytes(b"this is not a jpeg")
    (tmp_path / "dog" / "empty.png").write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ImageFolder(tmp_path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "broken.jpg" in message and "empty.png" in message
    assert len(ds) == 2 and sorted(p.rsplit("/", 1)[-1] for p in ds.skipped) == ["broken.jpg", "empty.png"]


def test_file_broken_after_construction_does_not_stop_the_epoch(tmp_path):
    (tmp_path / "c").mkdir()
    for i in range(4):
        Image.new("RGB", (6, 6), (i, i, i)).save(tmp_path / "c" / f"{i}.png")
    ds = ImageFolder(tmp_path, transform=T.ToTensor())
    (tmp_path / "c" / "1.png").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="1.png"):
        batches = list(DataLoader(ds, batch_size=2, num_workers=2))
    assert [b[0].shape for b in batches] == [(2, 3, 6, 6), (2, 3, 6, 6)]
    # sample 1 is replaced by sample 2, the next readable one
    assert np.allclose(batches[0][0].data[1], 2 / 255)


def test_errors_name_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        ImageFolder(missing)
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "flat" / "x.png")
    with pytest.raises(FileNotFoundError, match="no class folder.*flat"):
        ImageFolder(tmp_path / "flat")
    root = tmp_path / "tree"
    (root / "full").mkdir(parents=True)
    (root / "hollow").mkdir()
    Image.new("RGB", (4, 4)).save(root / "full" / "x.png")
    (root / "hollow" / "readme.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError, match="hollow"):
        ImageFolder(root)
    assert len(ImageFolder(root, allow_empty=True)) == 1


def test_check_same_classes(tmp_path):
    for split, classes in (("train", ["ants", "bees"]), ("val", ["ants", "wasps"])):
        for c in classes:
            (tmp_path / split / c).mkdir(parents=True)
            Image.new("RGB", (4, 4)).save(tmp_path / split / c / "x.png")
    train, val = ImageFolder(tmp_path / "train"), ImageFolder(tmp_path / "val")
    assert check_same_classes(train, train) == ["ants", "bees"]
    with pytest.raises(ValueError, match="only in train: \\['bees'\\].*only in val: \\['wasps'\\]"):
        check_same_classes(train, val)


def test_hymenoptera(hymenoptera):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every file with an image extension is readable
        train = ImageFolder(hymenoptera / "train")
        val = ImageFolder(hymenoptera / "val")
    assert (len(train), len(val)) == (244, 153)
    assert train.classes == val.classes == ["ants", "bees"]
    assert np.bincount(train.targets).tolist() == [123, 121]
    assert np.bincount(val.targets).tolist() == [70, 83]
    assert not any(p.endswith(".gif") for p, _ in train.samples)
    img, target = train[0]
    assert img.mode == "RGB" and target == 0
    check_same_classes(train, val)
