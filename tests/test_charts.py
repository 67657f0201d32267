"""The run charts follow the rules in charts.py's docstring: legend outside the data, 1-2-5 ticks with few
digits, markers drawn whole, the best epoch marked, series distinct by colour and dash, spaces visible."""
import math

import numpy as np
import pytest
from PIL import Image, features

from minitune.finetune import charts
from minitune.finetune.charts import (BEST, MARKER_RADIUS, confusion_chart, font, infer_best_epoch, line_chart,
                                      nice_ticks, plan_line_chart, tick_label)

pytestmark = pytest.mark.finetune

ACCURACY = {"train acc": [0.30, 0.50, 0.70, 0.80, 0.85, 0.90, 0.93],
            "val acc": [0.35, 0.55, 0.65, 0.82, 0.80, 0.86, 0.86],
            "val macro F1": [0.30, 0.50, 0.63, 0.81, 0.78, 0.85, 0.855]}
# Curves that run through every corner of the plot: a legend inside it would have to cover one.
CORNERS = {"up": [0.0, 0.25, 0.5, 0.75, 1.0], "down": [1.0, 0.75, 0.5, 0.25, 0.0],
           "high": [1.0] * 5, "low": [0.0] * 5}
MANY = {f"strategy {k} (val acc)": list(np.linspace(0.25, 0.5 + 0.06 * k, 10)) for k in range(8)}


@pytest.mark.parametrize("lo, hi, step", [(0.237, 0.981, 0.2), (0.0, 1.0, 0.2), (0.31, 1.38, 0.5),
                                          (0.6, 0.62, 0.005), (1.0, 130.0, 50.0), (0.9, 0.9, 0.05)])
def test_ticks_fall_on_1_2_5_steps_and_cover_the_data(lo, hi, step):
    ticks = nice_ticks(lo, hi)
    got = ticks[1] - ticks[0]
    assert math.isclose(got, step, rel_tol=1e-9)
    mantissa = got / 10 ** math.floor(math.log10(got))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5))
    assert all(math.isclose(t / got, round(t / got), abs_tol=1e-6) for t in ticks)
    assert ticks[0] <= lo and ticks[-1] >= hi and 3 <= len(ticks) <= 12


@pytest.mark.parametrize("value, step, text", [(0.2, 0.2, "0.2"), (1.0, 0.2, "1.0"), (0.0, 0.2, "0"),
                                               (5.0, 5.0, "5"), (0.05, 0.05, "0.05"), (120.0, 20.0, "120"),
                                               (0.6000000000000001, 0.2, "0.6")])
def test_tick_labels_carry_only_the_digits_the_step_needs(value, step, text):
    assert tick_label(value, step) == text


def _inside(point, box):
    x, y = point
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _marker_box(x, y):
    r = MARKER_RADIUS + 1
    return (x - r, y - r, x + r, y + r)


def _disjoint(a, b):
    return a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]


@pytest.mark.parametrize("series", [ACCURACY, CORNERS, MANY], ids=["accuracy", "corners", "eight-series"])
def test_legend_never_covers_data_and_markers_are_drawn_whole(series):
    plan = plan_line_chart(series, "t")
    w, h = plan.size
    assert 0 <= plan.legend[0] and plan.legend[2] <= w and _disjoint(plan.legend, plan.plot)
    for pts in plan.points.values():
        for _, _, x, y in pts:
            box = _marker_box(x, y)
            assert _disjoint(box, plan.legend)
            # inside the frame with a margin: the frame line never cuts a marker
            assert plan.plot[0] < box[0] and box[2] < plan.plot[2] and plan.plot[1] < box[1] and box[3] < plan.plot[3]
    for x, y, label, _ in plan.legend_items:
        assert _inside((x, y), plan.legend)
    assert sum(len(p) for p in plan.points.values()) == sum(len(v) for v in series.values())


def test_tick_positions_follow_the_values():
    plan = plan_line_chart(ACCURACY, "t")
    (v0, y0), (v1, y1) = plan.yticks[0], plan.yticks[-1]
    _, v, _, y = plan.points["val acc"][3]
    assert math.isclose((y - y0) / (y1 - y0), (v - v0) / (v1 - v0))
    assert [e for e, _ in plan.xticks] == [1, 2, 3, 4, 5, 6, 7]
    assert [e for e, _ in plan_line_chart({"a": list(range(40))}, "t").xticks] == [1, 5, 10, 15, 20, 25, 30, 35, 40]


def test_best_epoch_is_the_first_highest_val_acc_unless_given():
    assert infer_best_epoch(ACCURACY) == 6
    assert infer_best_epoch({"val acc": [float("nan"), 0.5, 0.5]}) == 2
    assert infer_best_epoch({"train loss": [1.0, 0.5]}) is None
    assert plan_line_chart(ACCURACY, "t", best_epoch=3).best_epoch == 3
    assert plan_line_chart(ACCURACY, "t", best_epoch=99).best_epoch is None


def test_best_epoch_line_is_drawn_and_named_in_the_legend(tmp_path):
    path = line_chart(tmp_path / "acc.png", ACCURACY, "accuracy", best_epoch=3)
    plan = plan_line_chart(ACCURACY, "accuracy", best_epoch=3)
    img = np.asarray(Image.open(path).convert("RGB"))
    column = img[int(plan.plot[1]) + 2:int(plan.plot[3]) - 2, int(round(plan.best_x))]
    assert (column == BEST).all(axis=1).sum() > 20  # the dotted line
    assert plan.legend_items[-1][2] == "best epoch 3" and plan.legend_items[-1][3] is None
    loss = {"train loss": ACCURACY["train acc"]}  # no "val acc" series: no best epoch to infer
    no_best = np.asarray(Image.open(line_chart(tmp_path / "loss.png", loss, "loss")).convert("RGB"))
    column = no_best[int(plan.plot[1]) + 2:int(plan.plot[3]) - 2, int(round(plan.best_x))]
    assert (column == BEST).all(axis=1).sum() == 0


def test_every_series_differs_in_colour_dash_and_marker():
    styles = [charts.style(k) for k in range(4)]
    for part in range(3):
        assert len({s[part] for s in styles}) == 4
    plan = plan_line_chart(ACCURACY, "t")
    val_acc, f1 = plan.legend_items[1][3], plan.legend_items[2][3]
    assert val_acc[0] != f1[0] and val_acc[1] != f1[1]


def test_series_colours_are_drawn(tmp_path):
    img = np.asarray(Image.open(line_chart(tmp_path / "a.png", ACCURACY, "accuracy")).convert("RGB"))
    for k in range(3):
        assert (img == charts.style(k)[0]).all(axis=2).sum() > 50


@pytest.mark.skipif(not features.check("freetype2"), reason="Pillow without FreeType has only its bitmap font")
def test_text_is_a_scalable_font_with_visible_spaces():
    f = font(14)
    assert f.getlength("val acc") - f.getlength("valacc") >= 3.5
    assert f.getbbox("Ag")[3] - f.getbbox("Ag")[1] >= 12


def test_empty_and_nan_series_still_give_a_chart(tmp_path):
    assert line_chart(tmp_path / "e.png", {}, "empty").exists()
    plan = plan_line_chart({"val acc": [0.5, float("nan"), 0.7]}, "t")
    assert [p[0] for p in plan.points["val acc"]] == [1, 3]


def test_confusion_chart_shades_by_count_and_outlines_the_diagonal(tmp_path):
    path = confusion_chart(tmp_path / "cm.png", [[50, 10], [8, 60]], ["ants", "bees"])
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    blue = (img[..., 2] == 255) & (img[..., 0] < 200)
    assert blue.sum() > 1000  # shaded cells
    assert img.shape[1] >= 300 and img.shape[0] >= 200
