"""Transforms: torchvision's sizes and crop positions on hand-made images, seeded randomness, tensor values."""
import numpy as np
import pytest
from PIL import Image

from minitune import Tensor
from minitune.data import transforms as T
from minitune.data import use_generator
from minitune.data.transforms import RandomResizedCrop, resized_output_size

pytestmark = pytest.mark.data


def coordinate_image(width, height):
    """R = x, G = y, B = 7: a pixel says where it came from."""
    y, x = np.mgrid[0:height, 0:width]
    return Image.fromarray(np.stack([x, y, np.full_like(x, 7)], axis=2).astype(np.uint8), "RGB")


@pytest.mark.parametrize("height, width, size, max_size, expected", [
    (375, 500, 256, None, (256, 341)),      # 256 * 500 / 375 = 341.33 → truncated
    (500, 375, 256, None, (341, 256)),
    (300, 301, 256, None, (256, 256)),      # 256 * 301 / 300 = 256.85 → 256
    (100, 100, 256, None, (256, 256)),
    (100, 400, 50, None, (50, 200)),
    (100, 400, 50, 120, (30, 120)),         # long side capped: int(120 * 50 / 200) = 30
    (375, 500, (200, 100), None, (200, 100)),
    (375, 500, [256], None, (256, 341)),
])
def test_resized_output_size(height, width, size, max_size, expected):
    assert resized_output_size(height, width, size, max_size) == expected


def test_resize_is_a_no_op_when_the_short_side_matches():
    img = coordinate_image(300, 256)
    assert T.Resize(256)(img) is img
    out = T.Resize(128)(img)
    assert out.size == (150, 128)  # PIL size is (width, height)
    assert T.Resize((20, 30))(img).size == (30, 20)


@pytest.mark.parametrize("width, height, size, left, top", [
    (10, 10, 5, 2, 2),     # round(2.5) = 2: half to even
    (11, 11, 4, 4, 4),     # round(3.5) = 4
    (12, 9, (3, 6), 3, 3),  # (h, w) = (3, 6): left = round(3.0), top = round(3.0)
    (9, 12, 5, 2, 4),      # left = round(2.0), top = round(3.5) = 4
    (8, 8, 8, 0, 0),
])
def test_center_crop_position(width, height, size, left, top):
    out = T.CenterCrop(size)(coordinate_image(width, height))
    h, w = (size, size) if isinstance(size, int) else size
    assert out.size == (w, h)
    assert out.getpixel((0, 0)) == (left, top, 7)


def test_center_crop_larger_than_the_image_pads_with_zeros():
    out = np.asarray(T.CenterCrop((4, 7))(coordinate_image(4, 2)))
    # width 4 → 7: pad left (7-4)//2 = 1, right (7-4+1)//2 = 2; height 2 → 4: pad 1 top, 1 bottom
    assert out.shape == (4, 7, 3)
    assert out[1:3, 1:5, 2].tolist() == [[7] * 4] * 2
    assert out[:, 0].sum() == 0 and out[:, 5:].sum() == 0 and out[0].sum() == 0 and out[3].sum() == 0
    assert tuple(out[1, 1]) == (0, 0, 7) and tuple(out[2, 4]) == (3, 1, 7)


def test_random_resized_crop_is_deterministic_for_a_generator():
    img = coordinate_image(120, 90)
    crop = RandomResizedCrop(32)
    outs = []
    for _ in range(2):
        with use_generator(np.random.default_rng(5)):
            outs.append([np.asarray(crop(img)) for _ in range(3)])
    assert all(np.array_equal(a, b) for a, b in zip(*outs))
    assert outs[0][0].shape == (32, 32, 3)
    assert not np.array_equal(outs[0][0], outs[0][1])


@pytest.mark.parametrize("scale, ratio", [((0.08, 1.0), (3 / 4, 4 / 3)), ((0.5, 0.6), (1.0, 1.0)),
                                          ((0.2, 0.3), (0.5, 2.0))])
def test_random_resized_crop_respects_scale_and_ratio(scale, ratio):
    img = coordinate_image(200, 160)
    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = RandomResizedCrop.get_params(img, scale, ratio, generator=rng)
        assert 0 <= top <= 160 - h and 0 <= left <= 200 - w
        # w and h are rounded, so allow one pixel of slack on each side
        assert scale[0] * 32000 <= (w + 1) * (h + 1) and (w - 1) * (h - 1) <= scale[1] * 32000
        assert ratio[0] <= (w + 1) / max(h - 1, 1) and (w - 1) / (h + 1) <= ratio[1]


@pytest.mark.parametrize("width, height, scale, expected", [
    (100, 10, (0.9, 1.0), (0, 43, 10, 13)),    # too wide: h = 10, w = round(10 * 4/3) = 13, centred
    (10, 100, (0.9, 1.0), (43, 0, 13, 10)),    # too tall: w = 10, h = round(10 / (3/4)) = 13
    (50, 40, (2.0, 3.0), (0, 0, 40, 50)),      # no area fits, ratio 1.25 within range: whole image
])
def test_random_resized_crop_fallback_is_the_central_crop(width, height, scale, expected):
    params = RandomResizedCrop.get_params(coordinate_image(width, height), scale, (3 / 4, 4 / 3),
                                          generator=np.random.default_rng(0))
    assert params == expected


def test_horizontal_flip():
    img = coordinate_image(5, 3)
    assert np.asarray(T.RandomHorizontalFlip(p=1.0)(img))[0, 0, 0] == 4
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    with use_generator(np.random.default_rng(1)):
        flips = [T.RandomHorizontalFlip()(img) is not img for _ in range(400)]
    assert 150 < sum(flips) < 250


def test_to_tensor_and_normalize_values():
    arr = np.array([[[0, 51, 255], [255, 102, 0]]], dtype=np.uint8)  # H=1, W=2, C=3
    t = T.ToTensor()(Image.fromarray(arr, "RGB"))
    assert t.shape == (3, 1, 2) and t.dtype == np.float32
    assert np.allclose(t.data[:, 0, 0], [0.0, 0.2, 1.0]) and np.allclose(t.data[:, 0, 1], [1.0, 0.4, 0.0])
    n = T.Normalize((0.5, 0.2, 0.5), (0.5, 0.1, 0.25))(t)
    assert n.dtype == np.float32
    assert np.allclose(n.data[:, 0, 0], [-1.0, 0.0, 2.0]) and np.allclose(n.data[:, 0, 1], [1.0, 2.0, -2.0])
    assert T.ToTensor()(Image.new("L", (3, 2), 255)).shape == (1, 2, 3)
    assert np.array_equal(T.ToTensor()(Image.new("1", (2, 2), 1)).data, np.ones((1, 2, 2), np.float32))


def test_the_tutorial_pipelines():
    img = coordinate_image(200, 150)
    train = T.Compose([T.RandomResizedCrop(64), T.RandomHorizontalFlip(), T.ToTensor(),
                       T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD)])
    val = T.Compose([T.Resize(72), T.CenterCrop(64), T.ToTensor(), T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD)])
    assert train(img).shape == val(img).shape == (3, 64, 64)


@pytest.mark.parametrize("make, arg, error, match", [
    (lambda: T.Normalize((0.5,) * 3, (0.5,) * 3), Tensor(np.zeros((4, 2, 2), np.float32)), ValueError, "4 channels"),
    (lambda: T.Normalize((0.5,) * 3, (0.5,) * 3), Tensor(np.zeros((3, 2, 2), np.uint8)), TypeError, "float"),
    (lambda: T.Normalize((0.5,) * 3, (0.5,) * 3), Image.new("RGB", (2, 2)), TypeError, "ToTensor"),
    (lambda: T.Normalize((0.5,) * 3, (0.5, 0.0, 0.5)), None, ValueError, "zero"),
    (lambda: T.RandomResizedCrop(8, scale=(1.0, 0.5)), None, ValueError, "min, max"),
    (lambda: T.Resize(-3), None, ValueError, "positive"),
    (lambda: T.CenterCrop((1, 2, 3)), None, ValueError, "height, width"),
    (lambda: T.CenterCrop(4), np.zeros((8, 8, 3), np.uint8), TypeError, "PIL image"),
    (lambda: T.ToTensor(), [1, 2, 3], TypeError, "PIL image or an np.ndarray"),
])
def test_bad_input_raises(make, arg, error, match):
    with pytest.raises(error, match=match):
        make()(arg)
