"""The pretraining ("source") task of minitune's built-in backbone: 50 procedurally drawn classes.

A backbone learns transferable features when its source task is large and diverse; ImageNet
cannot be downloaded here, so ``tools/pretrain.py`` trains on this task instead.  Its classes
come in six families, chosen so that the early layers must learn colour, edges at every
orientation, frequencies, and the later layers outlines, corners, curvature and counts:

    shapes    10 outlines × {filled, outline}: pentagon, hexagon, octagon, star, ring,
              ellipse, semicircle, arrow, l_shape, t_shape                          (20 classes)
    gratings  sinusoidal stripes at 4 orientations × 2 frequencies                  ( 8 classes)
    textures  checker_small, checker_large, dots, concentric, sunburst, zigzag,
              bricks, blobs                                                         ( 8 classes)
    colours   a smooth noisy field whose hue lies in one of 6 sextants              ( 6 classes)
    counts    2, 3, 4 or 5 small discs                                              ( 4 classes)
    lines     one thick line at 0°, 45°, 90° or 135°                                ( 4 classes)

None of them is a class of the fine-tuning target task ``SyntheticImages(task="shapes")``
(circle, cross, square, triangle): what transfers is the features, not the labels.  Every
image has random colours, size, position, rotation (within the class's rule) and noise.

Sample ``i`` of class ``c`` (any i ≥ 0) is drawn from ``numpy.random.default_rng([seed, 7, split_id, c, i])``,
so the task is deterministic and any size; ``split`` ("train", "val") gives disjoint streams.
``render_source_task(n_per_class, size, seed, split)`` returns ``(uint8 N×size×size×3, int64 N)``.
"""
import math

import numpy as np
from PIL import Image, ImageDraw

from .synthetic import SPLITS, SUPERSAMPLE, _hsv_colour, _noisy_background

SHAPES = ("pentagon", "hexagon", "octagon", "star", "ring", "ellipse", "semicircle", "arrow", "l_shape", "t_shape")
TEXTURES = ("checker_small", "checker_large", "dots", "concentric", "sunburst", "zigzag", "bricks", "blobs")
CLASSES = tuple(
    [f"{s}_{fill}" for s in SHAPES for fill in ("filled", "outline")]
    + [f"grating_{a}deg_{f}" for a in (0, 45, 90, 135) for f in ("low", "high")]
    + list(TEXTURES)
    + [f"hue_{k}" for k in range(6)]
    + [f"count_{n}" for n in (2, 3, 4, 5)]
    + [f"line_{a}deg" for a in (0, 45, 90, 135)])
SOURCE_TAG = 7  # keeps these streams apart from synthetic.py's


def _regular(n, r, cx, cy, angle, inner=None):
    """Corners of a regular n-gon (or a star with ``inner`` radius ratio) of radius r."""
    pts = []
    for k in range(n * (2 if inner else 1)):
        rad = r * (inner if inner and k % 2 else 1.0)
        a = angle + math.pi * k / (n if inner else n / 2) - math.pi / 2
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    return pts


def _rotated(pts, cx, cy, r, angle):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in pts]


ARROW = [(-1, -0.25), (0.2, -0.25), (0.2, -0.6), (1, 0), (0.2, 0.6), (0.2, 0.25), (-1, 0.25)]
L_SHAPE = [(-0.7, -1), (-0.2, -1), (-0.2, 0.5), (0.8, 0.5), (0.8, 1), (-0.7, 1)]
T_SHAPE = [(-1, -1), (1, -1), (1, -0.5), (0.25, -0.5), (0.25, 1), (-0.25, 1), (-0.25, -0.5), (-1, -0.5)]


def _draw_shape(draw, kind, fill, rng, big, colour):
    r = rng.uniform(0.25, 0.4) * big
    cx, cy = big / 2 + rng.uniform(-0.1, 0.1, size=2) * big
    angle = rng.uniform(0, 2 * math.pi)
    width = max(2, int(big * 0.07))
    kw = dict(fill=colour) if fill else dict(outline=colour, width=width)
    box = [cx - r, cy - r, cx + r, cy + r]
    if kind in ("ring", "ellipse", "semicircle"):
        if kind == "ring":  # a filled ring is a thick annulus; its outline a thin double circle
            draw.ellipse(box, outline=colour, width=int(r * 0.45) if fill else width)
            if not fill:
                draw.ellipse([cx - r * 0.55, cy - r * 0.55, cx + r * 0.55, cy + r * 0.55], outline=colour, width=width)
        elif kind == "ellipse":
            pts = [(math.cos(t), 0.45 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 40, endpoint=False)]
            draw.polygon(_rotated(pts, cx, cy, r, angle), **kw)
        else:
            pts = [(math.cos(t), math.sin(t) + 0.4) for t in np.linspace(math.pi, 2 * math.pi, 24)]
            draw.polygon(_rotated(pts, cx, cy, r, angle), **kw)
        return
    if kind in ("pentagon", "hexagon", "octagon"):
        pts = _regular({"pentagon": 5, "hexagon": 6, "octagon": 8}[kind], r, cx, cy, angle)
    elif kind == "star":
        pts = _regular(5, r, cx, cy, angle, inner=0.42)
    else:
        pts = _rotated({"arrow": ARROW, "l_shape": L_SHAPE, "t_shape": T_SHAPE}[kind], cx, cy, r, angle)
    draw.polygon(pts, **kw)


def _two_colours(rng):
    return _hsv_colour(rng, (0.65, 1.0)), _hsv_colour(rng, (0.05, 0.4), (0.2, 1.0))


def _texture(kind, rng, big):
    y, x = np.mgrid[0:big, 0:big].astype(np.float64)
    cx, cy = big / 2 + rng.uniform(-0.2, 0.2, size=2) * big
    t = rng.uniform(0, 2 * math.pi)
    u = (x * math.cos(t) + y * math.sin(t))
    v = (-x * math.sin(t) + y * math.cos(t))
    if kind in ("checker_small", "checker_large"):
        p = big * (rng.uniform(0.08, 0.12) if kind == "checker_small" else rng.uniform(0.22, 0.32))
        return ((u / p) % 1 < 0.5) ^ ((v / p) % 1 < 0.5)
    if kind == "dots":
        p = big * rng.uniform(0.15, 0.25)
        return ((u / p) % 1 - 0.5) ** 2 + ((v / p) % 1 - 0.5) ** 2 < 0.25 ** 2
    if kind == "concentric":
        return (np.hypot(x - cx, y - cy) / (big * rng.uniform(0.08, 0.14))) % 1 < 0.5
    if kind == "sunburst":
        return (np.arctan2(y - cy, x - cx) / (2 * math.pi) * int(rng.integers(6, 12)) + rng.uniform()) % 1 < 0.5
    if kind == "zigzag":
        p = big * rng.uniform(0.15, 0.25)
        return ((v + np.abs((u / p) % 1 - 0.5) * p) / (p * 0.6)) % 1 < 0.5
    if kind == "bricks":
        p = big * rng.uniform(0.12, 0.18)
        row = np.floor(v / p)
        return ((v / p) % 1 < 0.18) | (((u / (2 * p) + 0.5 * row) % 1) < 0.09)
    coarse = rng.normal(size=(5, 5))  # blobs: thresholded smooth noise
    field = np.asarray(Image.fromarray(coarse.astype(np.float32)).resize((big, big), Image.Resampling.BICUBIC))
    return field > 0


def draw_source(name, rng, size):
    """One ``size``×``size`` RGB image of source class ``name``."""
    big = size * SUPERSAMPLE
    family = name.split("_")[0]
    if name in TEXTURES or family == "grating":
        fg, bg = _two_colours(rng)
        if family == "grating":
            _, angle, freq = name.split("_")
            a = math.radians(int(angle[:-3]) + rng.uniform(-10, 10))
            period = big * (rng.uniform(0.3, 0.45) if freq == "low" else rng.uniform(0.1, 0.16))
            y, x = np.mgrid[0:big, 0:big]
            wave = 0.5 + 0.5 * np.sin(2 * math.pi * (x * math.cos(a) + y * math.sin(a)) / period + rng.uniform(0, 6.3))
            pixels = bg + wave[:, :, None] * (fg - bg)
        else:
            pixels = np.where(_texture(name, rng, big)[:, :, None], fg, bg)
        canvas = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    elif family == "hue":
        k = int(name.split("_")[1])
        h = (k + rng.uniform(0.1, 0.9)) / 6.0
        colour = _hsv_colour(_Pinned(h, rng), (0.5, 1.0), (0.6, 1.0))  # its hue pinned to h
        pixels = colour * rng.uniform(0.6, 1.0) + _noisy_background(rng, big) - 35
        canvas = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    else:
        canvas = Image.fromarray(np.clip(_noisy_background(rng, big), 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(canvas)
        colour = tuple(int(v) for v in _hsv_colour(rng, (0.7, 1.0)))
        if family == "count":
            _draw_count(draw, int(name.split("_")[1]), rng, big, colour)
        elif family == "line":
            a = math.radians(int(name.split("_")[1][:-3]) + rng.uniform(-8, 8))
            cx, cy = big / 2 + rng.uniform(-0.15, 0.15, size=2) * big
            h = big * rng.uniform(0.3, 0.45)
            draw.line([cx - h * math.cos(a), cy - h * math.sin(a), cx + h * math.cos(a), cy + h * math.sin(a)],
                      fill=colour, width=max(2, int(big * rng.uniform(0.06, 0.12))))
        else:
            kind, fill = name.rsplit("_", 1)
            _draw_shape(draw, kind, fill == "filled", rng, big, colour)
    pixels = np.asarray(canvas.reduce(SUPERSAMPLE), dtype=np.float64) + rng.normal(0.0, 5.0, size=(size, size, 3))
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


class _Pinned:
    """A generator whose first ``uniform`` returns ``h`` (the hue), then defers to ``rng``."""

    def __init__(self, h, rng):
        self.h, self.rng, self.used = h, rng, False

    def uniform(self, *args, **kwargs):
        if not self.used:
            self.used = True
            return self.h
        return self.rng.uniform(*args, **kwargs)


def _draw_count(draw, n, rng, big, colour):
    """``n`` discs of radius ~big/12 at non-overlapping random positions (rejection sampling)."""
    r = big * rng.uniform(0.07, 0.1)
    centres = []
    while len(centres) < n:
        c = rng.uniform(r + 1, big - r - 1, size=2)
        if all(np.hypot(*(c - d)) > 2.4 * r for d in centres):
            centres.append(c)
    for cx, cy in centres:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)


def render_source_task(n_per_class, size=32, seed=0, split="train", classes=CLASSES, start=0):
    """``(images uint8 N×size×size×3, labels int64 N)``, class-major: row i is class i // n_per_class,
    drawn as sample ``start + i % n_per_class`` of its class (``start`` moves to fresh images)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    images = np.empty((n_per_class * len(classes), size, size, 3), dtype=np.uint8)
    for c, name in enumerate(classes):
        for i in range(n_per_class):
            rng = np.random.default_rng([seed, SOURCE_TAG, SPLITS.index(split), c, start + i])
            images[c * n_per_class + i] = draw_source(name, rng, size)
    return images, np.repeat(np.arange(len(classes), dtype=np.int64), n_per_class)
