"""PNG charts drawn with Pillow alone: training curves and the confusion matrix.

The rules a chart for a report follows here, each one checked in ``tests/test_charts.py``:

- the legend sits **outside the plot area** (a band between the title and the plot), so it never
  covers a curve, however the curves run;
- ticks fall on 1-2-5 steps (``nice_ticks``): ``0.2 0.4 0.6``, never ``0.237 0.474``, and the labels
  carry only the digits the step needs;
- the data live inside an inset of the frame, so the markers of the first and last epochs and of
  values equal to an axis limit are drawn whole, not cut by the frame;
- the best epoch is marked (a dotted vertical line, a ring on the ``val acc`` point, and a legend
  entry that names it);
- every series differs from the others by colour **and** dash pattern **and** marker shape, so val
  accuracy and macro-F1 stay distinguishable in grey print;
- text is a scalable font (``ImageFont.load_default(size=…)``, Pillow's bundled DejaVu-like font
  when FreeType is present) with visible word spaces; without FreeType, Pillow's bitmap font.
"""
import math
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

# Colour-blind-safe colours (Okabe-Ito, yellow replaced by a purple that reads on white), dash patterns (on, off pixels; () = solid), marker shapes.
COLOURS = [(0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (230, 159, 0),
           (0, 0, 0), (117, 112, 179)]
DASHES = [(), (9, 5), (2, 4), (12, 4, 2, 4)]
MARKERS = ["circle", "square", "triangle", "diamond"]
GRID, FRAME, TEXT, BEST = (232, 232, 232), (150, 150, 150), (30, 30, 30), (110, 110, 110)
MARKER_RADIUS = 4


def font(size=14):
    """A scalable font at ``size`` pixels: DejaVu Sans where the system has it (its word space is a
    third of an em, so "val acc" never reads "valacc"), else Pillow's bundled ``load_default(size=…)``;
    Pillow's fixed bitmap font where FreeType is missing."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except (OSError, ImportError):
        pass
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError, AttributeError):  # Pillow < 10.1, or built without FreeType
        return ImageFont.load_default()


def nice_step(span, target=5):
    """The 1-2-5 step (1, 2, 5 times a power of ten) that cuts ``span`` into about ``target`` parts."""
    raw = span / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for mantissa in (1, 2, 5, 10):
        if mantissa * power >= raw * 0.999:
            return mantissa * power
    return 10 * power


def nice_ticks(lo, hi, target=5):
    """Tick values on a 1-2-5 step covering [lo, hi]: the first ≤ lo, the last ≥ hi."""
    if not hi > lo:  # one value: a window of ±10 % of it (±0.1 around 0)
        pad = 0.1 * abs(lo) or 0.1
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, target)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def tick_label(value, step):
    """``value`` with just the decimals that ``step`` needs: 0.2 → "0.2", 5 → "5", 0.05 → "0.05"."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


@dataclass
class LinePlan:
    """Where everything of a line chart goes, in pixels; drawn by ``line_chart``, inspected by the tests."""
    size: tuple
    plot: tuple                      # frame of the plot area (x0, y0, x1, y1)
    legend: tuple                    # the legend band (x0, y0, x1, y1), outside ``plot``
    legend_items: list               # (x, y, label, style) per entry; style None for the best-epoch entry
    xticks: list                     # (value, pixel x)
    yticks: list                     # (value, pixel y)
    ystep: float
    points: dict = field(default_factory=dict)   # series name -> [(epoch, value, x, y)]
    best_epoch: int = None
    best_x: float = None


def _text_size(draw, text, fnt):
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=fnt)
    return x1 - x0, y1 - y0


def style(k):
    """Colour, dash pattern and marker of the k-th series."""
    return COLOURS[k % len(COLOURS)], DASHES[k % len(DASHES)], MARKERS[k % len(MARKERS)]


def infer_best_epoch(series):
    """The run's rule when no best epoch is given: the first epoch with the highest ``val acc``."""
    ys = series.get("val acc")
    if not ys or all(v != v for v in ys):
        return None
    best = max(v for v in ys if v == v)
    return next(i for i, v in enumerate(ys) if v == best) + 1


def plan_line_chart(series, title, xlabel="epoch", size=(720, 450), best_epoch=None, fnt=None):
    """Lay out a line chart of ``series`` ({name: [y per epoch, epochs 1..n]}); returns a ``LinePlan``."""
    w, h = size
    fnt = fnt or font(14)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    n = max((len(ys) for ys in series.values()), default=0)
    values = [v for ys in series.values() for v in ys if v == v]
    if best_epoch is None:
        best_epoch = infer_best_epoch(series)
    if best_epoch is not None and not 1 <= best_epoch <= n:
        best_epoch = None
    yt = nice_ticks(min(values), max(values)) if values else [0.0, 1.0]
    ystep = yt[1] - yt[0]
    label_w = max(_text_size(draw, tick_label(v, ystep), fnt)[0] for v in yt)
    _, line_h = _text_size(draw, "Ag", fnt)
    left, right, bottom = 20 + line_h + label_w + 10, 20, 2 * line_h + 32
    # Legend entries flow left to right under the title and wrap; the band ends above the plot.
    entries = [(name, style(k)) for k, name in enumerate(series)]
    if best_epoch is not None:
        entries.append((f"best epoch {best_epoch}", None))
    items, x, y = [], left, 12 + line_h + 12
    for label, st in entries:
        item_w = 30 + _text_size(draw, label, fnt)[0] + 18
        if x + item_w > w - right and x > left:
            x, y = left, y + line_h + 8
        items.append((x, y, label, st))
        x += item_w
    legend = (left, 12 + line_h + 6, w - right, y + line_h + 6)
    plot = (left, legend[3] + 10, w - right, h - bottom)
    inset = MARKER_RADIUS + 6
    x0, y0, x1, y1 = plot[0] + inset, plot[1] + inset, plot[2] - inset, plot[3] - inset
    lo, hi = yt[0], yt[-1]

    def px(epoch):
        if n == 1:
            return (x0 + x1) / 2
        return x0 + (epoch - 1) / (n - 1) * (x1 - x0)

    def py(v):
        return y1 - (v - lo) / (hi - lo) * (y1 - y0)

    xs = list(range(1, n + 1))
    xstep = max(1, int(nice_step(max(n - 1, 1), 8)))
    xticks = [(e, px(e)) for e in xs if e == 1 or e % xstep == 0]
    plan = LinePlan(size, plot, legend, items, xticks, [(v, py(v)) for v in yt], ystep,
                    best_epoch=best_epoch, best_x=px(best_epoch) if best_epoch else None)
    for name, ys in series.items():
        plan.points[name] = [(i + 1, v, px(i + 1), py(v)) for i, v in enumerate(ys) if v == v]
    return plan


def _dashed(draw, pts, colour, dash, width=2):
    """A polyline with an on/off ``dash`` pattern that continues across the segments."""
    if not dash:
        draw.line(pts, fill=colour, width=width, joint="curve")
        return
    k, left = 0, dash[0]
    for (xa, ya), (xb, yb) in zip(pts, pts[1:]):
        length, t = math.hypot(xb - xa, yb - ya), 0.0
        while t < length:
            run = min(left, length - t)
            if k % 2 == 0:
                f0, f1 = t / length, (t + run) / length
                draw.line([(xa + f0 * (xb - xa), ya + f0 * (yb - ya)), (xa + f1 * (xb - xa), ya + f1 * (yb - ya))],
                          fill=colour, width=width)
            t += run
            left -= run
            if left <= 1e-9:
                k, left = k + 1, dash[(k + 1) % len(dash)]


def _marker(draw, x, y, shape, colour, r=MARKER_RADIUS):
    if shape == "circle":
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    elif shape == "square":
        draw.rectangle([x - r + 1, y - r + 1, x + r - 1, y + r - 1], fill=colour)
    elif shape == "triangle":
        draw.polygon([(x, y - r - 1), (x - r - 1, y + r), (x + r + 1, y + r)], fill=colour)
    else:
        draw.polygon([(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)], fill=colour)


def _vertical_text(img, xy, text, fnt, fill):
    """Paste ``text`` rotated by 90° (reading bottom to top) with its top-left corner at ``xy``."""
    d = ImageDraw.Draw(img)
    tw, th = _text_size(d, text, fnt)
    label = Image.new("RGBA", (tw + 4, th + 6), (255, 255, 255, 0))
    ImageDraw.Draw(label).text((2, 0), text, fill=fill, font=fnt)
    label = label.rotate(90, expand=True)
    img.paste(label, (int(xy[0]), int(xy[1])), label)


def line_chart(path, series, title, xlabel="epoch", size=(720, 450), best_epoch=None, ylabel=None):
    """Plot ``series`` ({name: [y per epoch]}) as lines with markers, and save a PNG at ``path``.

    ``best_epoch`` (1-based) draws a dotted vertical line and a legend entry; when omitted, the first
    epoch with the highest ``"val acc"`` series value is used if there is such a series. NaN values
    are skipped. Returns ``path``."""
    fnt, small = font(14), font(13)
    plan = plan_line_chart(series, title, xlabel, size, best_epoch, fnt)
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    d.text((plan.plot[0], 10), title, fill=TEXT, font=font(16))
    x0, y0, x1, y1 = plan.plot
    for v, y in plan.yticks:
        d.line([x0, y, x1, y], fill=GRID)
        label = tick_label(v, plan.ystep)
        tw, th = _text_size(d, label, small)
        d.text((x0 - 8 - tw, y - th / 2 - 3), label, fill=TEXT, font=small)
    for e, x in plan.xticks:
        d.line([x, y1, x, y1 + 5], fill=FRAME)
        tw, _ = _text_size(d, str(e), small)
        d.text((x - tw / 2, y1 + 8), str(e), fill=TEXT, font=small)
    tw, th = _text_size(d, xlabel, fnt)
    d.text(((x0 + x1 - tw) / 2, size[1] - th - 14), xlabel, fill=TEXT, font=fnt)
    if ylabel:
        tw, _ = _text_size(d, ylabel, fnt)
        _vertical_text(img, (6, (y0 + y1 - tw) / 2), ylabel, fnt, TEXT)
    d.rectangle(plan.plot, outline=FRAME)
    if plan.best_x is not None:
        _dashed(d, [(plan.best_x, y0 + 1), (plan.best_x, y1 - 1)], BEST, (2, 3), width=1)
    for k, (name, pts) in enumerate(plan.points.items()):
        colour, dash, shape = style(k)
        xy = [(x, y) for _, _, x, y in pts]
        if len(xy) > 1:
            _dashed(d, xy, colour, dash)
        for x, y in xy:
            _marker(d, x, y, shape, colour)
    for epoch, _, x, y in plan.points.get("val acc", []):
        if epoch == plan.best_epoch:
            r = MARKER_RADIUS + 4
            d.ellipse([x - r, y - r, x + r, y + r], outline=TEXT, width=2)
    for x, y, label, st in plan.legend_items:
        mid = y + 9
        if st is None:
            _dashed(d, [(x + 13, mid - 8), (x + 13, mid + 8)], BEST, (2, 3), width=1)
        else:
            colour, dash, shape = st
            _dashed(d, [(x, mid), (x + 26, mid)], colour, dash)
            _marker(d, x + 13, mid, shape, colour)
        d.text((x + 32, y), label, fill=TEXT, font=fnt)
    img.save(path)
    return path


def confusion_chart(path, matrix, class_names, title="confusion matrix (rows: true, columns: predicted)"):
    """Draw a confusion matrix as a grid of shaded, numbered cells, and save a PNG at ``path``.

    A cell's shade is its count over the largest count; the diagonal (correct predictions) is outlined."""
    k = len(class_names)
    fnt, small = font(14), font(13)
    d = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    names = [str(c) if len(str(c)) <= 18 else str(c)[:17] + "…" for c in class_names]
    label_w = max([_text_size(d, s, small)[0] for s in names] + [40]) + 34
    col_h = label_w - 20
    cell = max(36, min(80, 480 // max(k, 1)))
    title_w = _text_size(d, title, fnt)[0]
    w = max(label_w + cell * k + 30, title_w + 30)
    top = 44
    h = top + cell * k + col_h + 40
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    d.text((14, 12), title, fill=TEXT, font=fnt)
    peak = max((max(row) for row in matrix), default=0) if k else 0
    for i in range(k):
        tw, th = _text_size(d, names[i], small)
        d.text((label_w - 10 - tw, top + i * cell + (cell - th) / 2 - 3), names[i], fill=TEXT, font=small)
        for j in range(k):
            v = matrix[i][j]
            shade = int(255 - 200 * (v / peak if peak else 0))
            x0, y0 = label_w + j * cell, top + i * cell
            d.rectangle([x0, y0, x0 + cell, y0 + cell], fill=(shade, shade, 255), outline=(200, 200, 200))
            text = str(int(v))
            tw, th = _text_size(d, text, fnt)
            d.text((x0 + (cell - tw) / 2, y0 + (cell - th) / 2 - 3), text,
                   fill=TEXT if shade > 120 else "white", font=fnt)
    for i in range(k):
        x0, y0 = label_w + i * cell, top + i * cell
        d.rectangle([x0, y0, x0 + cell, y0 + cell], outline=TEXT, width=2)
    for j in range(k):
        tw, th = _text_size(d, names[j], small)
        _vertical_text(img, (label_w + j * cell + (cell - th) / 2 - 3, top + k * cell + 6), names[j], small, TEXT)
    label = "predicted"
    tw, th = _text_size(d, label, fnt)
    d.text((label_w + (k * cell - tw) / 2, h - th - 12), label, fill=TEXT, font=fnt)
    img.save(path)
    return path
