"""Procedurally drawn image-classification datasets that need no download.

Two tasks, with four visually distinct classes each:
    "shapes"    circle, cross, square, triangle   — one bright shape of random colour,
                size, position and rotation on a dark, noisy background;
    "textures"  checkerboard, dots, horizontal_stripes, vertical_stripes — a two-colour
                pattern of random colours, period, phase and slight tilt, plus noise.
Sample ``i`` of class ``i // n_per_class`` is drawn from
``numpy.random.default_rng([seed, task_id, split_id, i])``, so a dataset is
deterministic, cheap (drawn on access, at 2× and box-filtered for smooth edges) and any
size; ``split`` ("train", "val", "test") gives disjoint streams for the same seed.
Items are ``(PIL RGB image, class_index)``, so the usual transforms apply.

``write_image_folder`` writes ``root/train/<class>/*.png`` and ``root/val/...`` for
``ImageFolder`` and the command line; reading it back gives the same pixels and labels.
"""
import math
import os

import numpy as np
from PIL import Image, ImageDraw

SPLITS = ("train", "val", "test")
SUPERSAMPLE = 2


def _hsv_colour(rng, value_range, saturation_range=(0.5, 1.0)):
    """A random RGB colour (0..255) with the given HSV value and saturation ranges."""
    h = rng.uniform(0.0, 1.0)
    s = rng.uniform(*saturation_range)
    v = rng.uniform(*value_range)
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb) * 255.0


def _noisy_background(rng, size):
    """A dark background: a base colour (each channel 0..70) plus smooth and pixel noise."""
    base = rng.uniform(0.0, 70.0, size=3)
    coarse = rng.normal(0.0, 10.0, size=(4, 4, 3))
    smooth = np.asarray(Image.fromarray(np.clip(coarse + 128, 0, 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BILINEAR), dtype=np.float64) - 128
    return base + smooth + rng.normal(0.0, 6.0, size=(size, size, 3))


def _polygon(kind, cx, cy, r, angle):
    """Corner list of a square, triangle or cross of 'radius' r centred at (cx, cy), rotated by angle."""
    if kind == "square":
        pts = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        pts = [(x * 0.85, y * 0.85) for x, y in pts]
    elif kind == "triangle":
        pts = [(math.cos(a), math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
        pts = [(x * 1.1, y * 1.1 + 0.15) for x, y in pts]
    else:  # cross: arms of half-width 0.33
        w = 0.33
        pts = [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w),
               (-w, -w)]
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in pts]


def draw_shape(kind, rng, size):
    """One ``size``×``size`` RGB image of a shape (``circle``, ``cross``, ``square``, ``triangle``)."""
    big = size * SUPERSAMPLE
    canvas = Image.fromarray(np.clip(_noisy_background(rng, big), 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(canvas)
    r = rng.uniform(0.22, 0.38) * big  # radius of the shape's bounding circle
    cx, cy = (big / 2 + rng.uniform(-0.12, 0.12, size=2) * big)
    colour = tuple(int(v) for v in _hsv_colour(rng, (0.75, 1.0)))
    angle = rng.uniform(-math.pi / 12, math.pi / 12)
    if kind == "circle":
        draw.ellipse([cx - r * 0.9, cy - r * 0.9, cx + r * 0.9, cy + r * 0.9], fill=colour)
    else:
        draw.polygon(_polygon(kind, cx, cy, r, angle), fill=colour)
    pixels = np.asarray(canvas.reduce(SUPERSAMPLE), dtype=np.float64) + rng.normal(0.0, 4.0, size=(size, size, 3))
    return Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8), "RGB")


def draw_texture(kind, rng, size):
    """One image of a texture (``checkerboard``, ``dots``, ``horizontal_stripes``, ``vertical_stripes``)."""
    big = size * SUPERSAMPLE
    period = rng.uniform(0.14, 0.28) * big
    tilt = rng.uniform(-math.pi / 18, math.pi / 18)
    y, x = np.mgrid[0:big, 0:big].astype(np.float64)
    u = (x * math.cos(tilt) + y * math.sin(tilt)) / period + rng.uniform(0, 1)
    v = (-x * math.sin(tilt) + y * math.cos(tilt)) / period + rng.uniform(0, 1)
    if kind == "horizontal_stripes":
        mask = (v % 1.0) < 0.5
    elif kind == "vertical_stripes":
        mask = (u % 1.0) < 0.5
    elif kind == "checkerboard":
        mask = ((u % 1.0) < 0.5) ^ ((v % 1.0) < 0.5)
    else:  # dots on a square lattice
        mask = ((u % 1.0) - 0.5) ** 2 + ((v % 1.0) - 0.5) ** 2 < 0.3 ** 2
    fg = _hsv_colour(rng, (0.7, 1.0))
    bg = _hsv_colour(rng, (0.05, 0.35), (0.2, 1.0))
    pixels = np.where(mask[:, :, None], fg, bg)
    small = np.asarray(Image.fromarray(pixels.astype(np.uint8), "RGB").reduce(SUPERSAMPLE), dtype=np.float64)
    small = small + rng.normal(0.0, 8.0, size=(size, size, 3))
    return Image.fromarray(np.clip(np.round(small), 0, 255).astype(np.uint8), "RGB")


TASKS = {
    "shapes": (("circle", "cross", "square", "triangle"), draw_shape),
    "textures": (("checkerboard", "dots", "horizontal_stripes", "vertical_stripes"), draw_texture),
}


class SyntheticImages:
    """``n_per_class`` drawn images per class of a synthetic ``task``, as ``(PIL image, class_index)``.

    ``classes`` (sorted, as an ImageFolder of them would be) may select a subset of the
    task's classes.  ``targets[i] = i // n_per_class``.
    """

    def __init__(self, n_per_class, image_size=64, task="shapes", classes=None, seed=0, split="train",
                 transform=None, target_transform=None):
        if task not in TASKS:
            raise ValueError(f"unknown synthetic task {task!r}; expected one of {sorted(TASKS)}")
        if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
            raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}")
        if not isinstance(image_size, (int, np.integer)) or image_size < 8:
            raise ValueError(f"image_size must be an int >= 8, got {image_size!r}")
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        available, self._draw = TASKS[task]
        classes = available if classes is None else tuple(classes)
        unknown = [c for c in classes if c not in available]
        if unknown or not classes or len(set(classes)) != len(classes):
            raise ValueError(f"classes {list(classes)} must be distinct names from the task {task!r}: "
                             f"{list(available)}")
        self.classes = sorted(classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.task, self.n_per_class, self.image_size = task, int(n_per_class), int(image_size)
        self.seed, self.split = int(seed), split
        self.transform, self.target_transform = transform, target_transform
        self.targets = [i // self.n_per_class for i in range(self.n_per_class * len(self.classes))]
        self._stream = (self.seed, sorted(TASKS).index(task), SPLITS.index(split))

    def __len__(self):
        return len(self.targets)

    def image(self, index):
        """The untransformed PIL image of sample ``index``."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} samples")
        index %= len(self)
        rng = np.random.default_rng([*self._stream, index])
        return self._draw(self.classes[self.targets[index]], rng, self.image_size)

    def __getitem__(self, index):
        img = self.image(index)
        target = self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def save(self, directory, ext="png"):
        """Write ``directory/<class>/<index:05d>.<ext>`` for every sample; returns ``directory``."""
        directory = os.fspath(directory)
        for name in self.classes:
            os.makedirs(os.path.join(directory, name), exist_ok=True)
        for i, t in enumerate(self.targets):
            self.image(i).save(os.path.join(directory, self.classes[t], f"{i:05d}.{ext}"))
        return directory

    def __repr__(self):
        return (f"SyntheticImages(task={self.task!r}, split={self.split!r}, {len(self)} samples, "
                f"image_size={self.image_size}, classes={self.classes}, seed={self.seed})")


SyntheticShapes = SyntheticImages  # the name the project's issue uses


def synthetic_train_val(n_train_per_class, n_val_per_class, image_size=64, task="shapes", classes=None, seed=0,
                        train_transform=None, val_transform=None):
    """A ``(train, val)`` pair of the same task and seed, drawn from disjoint streams."""
    common = dict(image_size=image_size, task=task, classes=classes, seed=seed)
    return (SyntheticImages(n_train_per_class, split="train", transform=train_transform, **common),
            SyntheticImages(n_val_per_class, split="val", transform=val_transform, **common))


def write_image_folder(root, n_train_per_class=20, n_val_per_class=10, image_size=64, task="shapes", classes=None,
                       seed=0, ext="png"):
    """Write ``root/train/<class>/*.<ext>`` and ``root/val/<class>/*.<ext>``; returns ``{"train": path, "val": path}``.

    PNG (the default) is lossless, so ``ImageFolder(root/train)`` gives back the same pixels.
    """
    train, val = synthetic_train_val(n_train_per_class, n_val_per_class, image_size, task, classes, seed)
    return {"train": train.save(os.path.join(os.fspath(root), "train"), ext),
            "val": val.save(os.path.join(os.fspath(root), "val"), ext)}
