"""PNG charts drawn with Pillow alone: training curves and the confusion matrix."""
from PIL import Image, ImageDraw, ImageFont

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


def _font():
    return ImageFont.load_default()


def line_chart(path, series, title, xlabel="epoch", size=(640, 400)):
    """Plot ``series`` ({name: [y per epoch]}) as lines with markers, and save a PNG."""
    w, h = size
    left, right, top, bottom = 60, 20, 40, 50
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    font = _font()
    values = [v for ys in series.values() for v in ys if v == v]
    n = max((len(ys) for ys in series.values()), default=0)
    d.text((left, 12), title, fill="black", font=font)
    if not values or n == 0:
        img.save(path)
        return path
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad

    def xy(i, v):
        x = left + (i / max(n - 1, 1)) * (w - left - right)
        y = top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom)
        return x, y

    d.rectangle([left, top, w - right, h - bottom], outline=(160, 160, 160))
    for k in range(5):
        v = lo + k * (hi - lo) / 4
        _, y = xy(0, v)
        d.line([left, y, w - right, y], fill=(230, 230, 230))
        d.text((4, y - 6), f"{v:.3g}", fill="black", font=font)
    for i in range(n):
        x, _ = xy(i, lo)
        d.text((x - 4, h - bottom + 6), str(i + 1), fill="black", font=font)
    d.text(((w - left) // 2, h - 18), xlabel, fill="black", font=font)
    for k, ys in enumerate(series.values()):
        colour = COLOURS[k % len(COLOURS)]
        pts = [xy(i, v) for i, v in enumerate(ys) if v == v]
        if len(pts) > 1:
            d.line(pts, fill=colour, width=2)
        for x, y in pts:
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
    # The legend last, on a white box in the lower right, so no curve hides it.
    lx, ly = w - right - 160, h - bottom - 14 * len(series) - 8
    d.rectangle([lx - 4, ly - 2, w - right - 4, ly + 14 * len(series) + 2], fill="white", outline=(200, 200, 200))
    for k, name in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        d.line([lx, ly + 14 * k + 6, lx + 16, ly + 14 * k + 6], fill=colour, width=2)
        d.text((lx + 22, ly + 14 * k), name, fill=colour, font=font)
    img.save(path)
    return path


def confusion_chart(path, matrix, class_names, title="confusion matrix (rows: true, columns: predicted)"):
    """Draw a confusion matrix as a grid of shaded, numbered cells, and save a PNG."""
    k = len(class_names)
    cell = max(24, min(80, 480 // max(k, 1)))
    label_w = 110
    w, h = label_w + cell * k + 20, 50 + cell * k + 60
    img = Image.new("RGB", (max(w, 360), h), "white")
    d = ImageDraw.Draw(img)
    font = _font()
    d.text((10, 10), title, fill="black", font=font)
    peak = max(max(row) for row in matrix) if k else 1
    for i in range(k):
        d.text((6, 50 + i * cell + cell // 2 - 6), str(class_names[i])[:16], fill="black", font=font)
        for j in range(k):
            v = matrix[i][j]
            shade = int(255 - 200 * (v / peak if peak else 0))
            x0, y0 = label_w + j * cell, 50 + i * cell
            d.rectangle([x0, y0, x0 + cell, y0 + cell], fill=(shade, shade, 255), outline=(200, 200, 200))
            d.text((x0 + cell // 2 - 8, y0 + cell // 2 - 6), str(int(v)), fill="black" if shade > 120 else "white", font=font)
    for j in range(k):
        d.text((label_w + j * cell + 2, 54 + k * cell), str(class_names[j])[:max(3, cell // 7)], fill="black", font=font)
    img.save(path)
    return path
