"""Image transforms with torchvision's names, arguments and arithmetic (PIL in; PIL or Tensor out).

    train:  Compose([RandomResizedCrop(224), RandomHorizontalFlip(), ToTensor(), Normalize(mean, std)])
    eval:   Compose([Resize(256), CenterCrop(224), ToTensor(), Normalize(mean, std)])

Sizes follow ``torchvision.transforms.functional`` exactly (truncation in ``Resize``,
``round`` half-to-even in ``CenterCrop``, the 10-attempt loop of ``RandomResizedCrop``);
resampling is Pillow's, which is what torchvision calls for PIL images.

Differences from torchvision:
- random transforms draw from ``minitune.data.generator.current_generator()`` (a numpy
  generator: per sample inside a ``DataLoader``, else ``minitune.random.default_generator()``),
  so the numbers differ from torch's even for the same seed;
- geometric transforms take PIL images only (torchvision also takes tensors);
- ``RandomResizedCrop`` raises ``ValueError`` for a reversed ``scale``/``ratio`` (torchvision warns).
"""
import math
import numbers

import numpy as np
from PIL import Image

from ..autograd.tensor import Tensor
from .generator import current_generator

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class InterpolationMode:
    """torchvision's interpolation names, mapped to Pillow's resampling filters."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                "bicubic": Image.Resampling.BICUBIC, "box": Image.Resampling.BOX,
                "hamming": Image.Resampling.HAMMING, "lanczos": Image.Resampling.LANCZOS}


def _pil_filter(interpolation):
    if isinstance(interpolation, Image.Resampling):
        return interpolation
    key = str(interpolation).lower()
    if key not in _PIL_FILTERS:
        raise ValueError(f"interpolation must be one of {sorted(_PIL_FILTERS)}, got {interpolation!r}")
    return _PIL_FILTERS[key]


def _check_pil(img, name):
    if not isinstance(img, Image.Image):
        raise TypeError(f"{name} expects a PIL image, got {type(img).__name__}; "
                        "apply it before ToTensor()")


def _size_pair(size, name):
    """``int`` or ``(s,)`` → ``(s, s)``; ``(h, w)`` → ``(h, w)`` (torchvision's ``_setup_size``)."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (int(size[0]), int(size[0]))
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        size = (int(size[0]), int(size[1]))
    else:
        raise ValueError(f"{name}: size must be an int or a (height, width) pair, got {size!r}")
    if min(size) <= 0:
        raise ValueError(f"{name}: size must be positive, got {size}")
    return size


class Compose:
    """Apply ``transforms`` in order: ``x = t_n(... t_1(x))``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


def resized_output_size(height, width, size, max_size=None):
    """torchvision's ``_compute_resized_output_size`` → ``(new_h, new_w)``.

    int ``s``: the shorter side becomes ``s`` and the longer ``int(s * long / short)``
    (truncated); then, if ``max_size`` is given and the long side exceeds it,
    ``(int(max_size * short / long), max_size)``.  A pair ``(h, w)`` is taken as is.
    """
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    requested = int(size[0]) if isinstance(size, (tuple, list)) else int(size)
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size {requested}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def resize(img, size, interpolation="bilinear", max_size=None):
    """Resize a PIL image to ``resized_output_size``; a no-op when the size is unchanged."""
    _check_pil(img, "resize")
    new_h, new_w = resized_output_size(img.height, img.width, size, max_size)
    if (new_h, new_w) == (img.height, img.width):
        return img
    return img.resize((new_w, new_h), _pil_filter(interpolation))


class Resize:
    """``Resize(size)``: int = the shorter side (aspect kept, long side truncated), or ``(h, w)``.

    Pillow's resampling antialiases when shrinking, as torchvision's PIL path does.
    """

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            size = int(size)
        elif not (isinstance(size, (tuple, list)) and len(size) in (1, 2)):
            raise ValueError(f"Resize: size must be an int or a sequence of 1 or 2 ints, got {size!r}")
        if min(np.atleast_1d(size)) <= 0:
            raise ValueError(f"Resize: size must be positive, got {size!r}")
        if max_size is not None and isinstance(size, (tuple, list)) and len(size) == 2:
            raise ValueError("Resize: max_size is only allowed when size is a single int")
        _pil_filter(interpolation)
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def __call__(self, img):
        return resize(img, self.size, self.interpolation, self.max_size)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation}, max_size={self.max_size})"


def center_crop(img, size):
    """Crop the centre: ``top = int(round((H - h) / 2.0))``, ``left = int(round((W - w) / 2.0))``.

    A crop larger than the image first pads it with zeros, ``(w - W) // 2`` on the left and
    ``(w - W + 1) // 2`` on the right (likewise top/bottom), as torchvision does.
    """
    _check_pil(img, "center_crop")
    crop_h, crop_w = _size_pair(size, "center_crop")
    width, height = img.size
    if crop_w > width or crop_h > height:
        left = (crop_w - width) // 2 if crop_w > width else 0
        top = (crop_h - height) // 2 if crop_h > height else 0
        right = (crop_w - width + 1) // 2 if crop_w > width else 0
        bottom = (crop_h - height + 1) // 2 if crop_h > height else 0
        padded = Image.new(img.mode, (width + left + right, height + top + bottom))
        padded.paste(img, (left, top))
        img = padded
        width, height = img.size
        if (crop_w, crop_h) == (width, height):
            return img
    top = int(round((height - crop_h) / 2.0))
    left = int(round((width - crop_w) / 2.0))
    return img.crop((left, top, left + crop_w, top + crop_h))


class CenterCrop:
    """``CenterCrop(size)``: int → a square crop, or ``(h, w)``; see ``center_crop``."""

    def __init__(self, size):
        self.size = _size_pair(size, "CenterCrop")

    def __call__(self, img):
        return center_crop(img, self.size)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class RandomResizedCrop:
    """Crop a random area and aspect ratio, then resize to ``size``.

    ``get_params`` is torchvision's: up to 10 attempts of
        target_area = H·W · U(scale[0], scale[1]),  aspect = exp(U(log ratio[0], log ratio[1])),
        w = int(round(sqrt(target_area · aspect))),  h = int(round(sqrt(target_area / aspect))),
    accepted when ``0 < w <= W and 0 < h <= H``, with ``top ~ U{0..H-h}``, ``left ~ U{0..W-w}``.
    Otherwise the fallback is a central crop clamped to the ratio range.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation="bilinear",
                 antialias=True):
        self.size = _size_pair(size, "RandomResizedCrop")
        if len(scale) != 2 or len(ratio) != 2:
            raise ValueError(f"RandomResizedCrop: scale and ratio must be (min, max) pairs, got {scale}, {ratio}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio must be (min, max), got scale={scale}, ratio={ratio}")
        if scale[0] < 0 or ratio[0] <= 0:
            raise ValueError(f"RandomResizedCrop: scale must be >= 0 and ratio > 0, got scale={scale}, ratio={ratio}")
        _pil_filter(interpolation)
        self.scale, self.ratio = tuple(map(float, scale)), tuple(map(float, ratio))
        self.interpolation, self.antialias = interpolation, antialias

    @staticmethod
    def get_params(img, scale, ratio, generator=None):
        """``(top, left, h, w)`` of the crop; draws from ``generator`` or ``current_generator()``."""
        rng = generator if generator is not None else current_generator()
        width, height = img.size
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                top = int(rng.integers(0, height - h + 1))
                left = int(rng.integers(0, width - w + 1))
                return top, left, h, w
        in_ratio = float(width) / float(height)  # fallback: the central crop
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        _check_pil(img, "RandomResizedCrop")
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        crop = img.crop((left, top, left + w, top + h))
        return crop.resize((self.size[1], self.size[0]), _pil_filter(self.interpolation))

    def __repr__(self):
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"


class RandomHorizontalFlip:
    """Mirror left–right with probability ``p``: flip when ``U(0, 1) < p``."""

    def __init__(self, p=0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, img):
        _check_pil(img, "RandomHorizontalFlip")
        if current_generator().random() < self.p:
            return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return img

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


_PIL_DTYPES = {"I": np.int32, "I;16": np.int16, "F": np.float32}  # torchvision's mode_to_nptype; others uint8


def to_tensor(pic):
    """PIL image or HWC ndarray → CHW Tensor; uint8 becomes float32 scaled to [0, 1]: ``x / 255``.

    As torchvision: only uint8 is converted; other dtypes are kept as they are, unscaled —
    a float64 array stays float64, int32/int16 arrays and PIL modes "I" (int32), "I;16" (int16)
    and "F" (float32) keep their integer or float type.  Mode "1" gives 0/1 (as uint8 0/255 → /255).
    An HW array or an "L" image gives one channel.
    """
    if isinstance(pic, Image.Image):
        arr = np.array(pic, dtype=_PIL_DTYPES.get(pic.mode, np.uint8))
        if pic.mode == "1":
            arr = arr * np.uint8(255)
    elif isinstance(pic, np.ndarray):
        arr = pic
    else:
        raise TypeError(f"ToTensor expects a PIL image or an np.ndarray, got {type(pic).__name__}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"ToTensor expects an HxW or HxWxC image, got shape {arr.shape}")
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return Tensor(chw.astype(np.float32) / np.float32(255.0))
    return Tensor(chw)


class ToTensor:
    """HWC uint8 (PIL or ndarray) → CHW float32 in [0, 1]; other dtypes are kept; see ``to_tensor``."""

    def __call__(self, pic):
        return to_tensor(pic)

    def __repr__(self):
        return "ToTensor()"


def normalize(tensor, mean, std):
    """Per channel: ``out[c] = (x[c] - mean[c]) / std[c]`` on a (…, C, H, W) float tensor."""
    arr = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"Normalize expects a Tensor, got {type(tensor).__name__}; apply ToTensor() first")
    if arr.dtype.kind != "f":
        raise TypeError(f"Normalize expects a float tensor, got dtype {arr.dtype}")
    if arr.ndim < 3:
        raise ValueError(f"Normalize expects a (..., C, H, W) tensor, got shape {arr.shape}")
    mean = np.asarray(mean, dtype=arr.dtype).reshape(-1)
    std = np.asarray(std, dtype=arr.dtype).reshape(-1)
    channels = arr.shape[-3]
    for name, v in (("mean", mean), ("std", std)):
        if v.size not in (1, channels):
            raise ValueError(f"Normalize: {name} has {v.size} values but the image has {channels} channels "
                             "(convert grayscale/RGBA images to RGB first)")
    if np.any(std == 0):
        raise ValueError(f"Normalize: std {std.tolist()} contains zero, which would divide by zero")
    out = (arr - mean[:, None, None]) / std[:, None, None]
    return Tensor(out.astype(arr.dtype, copy=False))


class Normalize:
    """``Normalize(mean, std)``: ``(x - mean[c]) / std[c]`` per channel; returns a new Tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = tuple(mean), tuple(std), inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std {self.std} contains zero, which would divide by zero")

    def __call__(self, tensor):
        return normalize(tensor, self.mean, self.std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function: ``Lambda(fn)(x) = fn(x)``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda expects a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)
