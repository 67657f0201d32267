"""Metrics on hand-computed cases, including a class never predicted and a class absent from the targets."""
import warnings

import numpy as np
import pytest

import minitune
from minitune.metrics import (accuracy, classification_report, confusion_matrix, format_report,
                              macro_precision_recall_f1, precision_recall_f1, top_k_accuracy)

pytestmark = pytest.mark.data

# 4 classes; class 2 is never predicted, class 3 occurs nowhere.
TARGET = [0, 0, 1, 1, 1, 2]
PRED = [0, 1, 1, 1, 0, 1]
# rows = true class, columns = predicted class, counted by hand from the pairs above
CONFUSION = [[1, 1, 0, 0],
             [1, 2, 0, 0],
             [0, 1, 0, 0],
             [0, 0, 0, 0]]
PRECISION = [1 / 2, 2 / 4, 0.0, 0.0]          # column sums 2, 4, 0, 0
RECALL = [1 / 2, 2 / 3, 0.0, 0.0]             # row sums 2, 3, 1, 0
F1 = [1 / 2, 4 / 7, 0.0, 0.0]                 # 2·(1/2)(2/3) / (1/2 + 2/3) = 4/7
SUPPORT = [2, 3, 1, 0]


@pytest.fixture(autouse=True)
def no_warnings_no_division_by_zero():
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("convert", [list, np.array, lambda v: minitune.tensor(v)], ids=["list", "numpy", "tensor"])
def test_confusion_precision_recall_f1(convert):
    t, p = convert(TARGET), convert(PRED)
    assert confusion_matrix(t, p, 4).tolist() == CONFUSION
    precision, recall, f1, support = precision_recall_f1(t, p, 4)
    assert np.allclose(precision, PRECISION) and np.allclose(recall, RECALL) and np.allclose(f1, F1)
    assert support.tolist() == SUPPORT
    assert np.allclose(macro_precision_recall_f1(t, p, 4), [1 / 4, 7 / 24, 15 / 56])  # sums / 4 classes
    assert accuracy(p, t) == 0.5


def test_classification_report():
    report = classification_report(TARGET, PRED, 4, target_names=["a", "b", "c", "d"])
    assert report["b"] == {"precision": 0.5, "recall": pytest.approx(2 / 3), "f1-score": pytest.approx(4 / 7),
                           "support": 3}
    assert report["c"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 1}
    assert report["accuracy"] == 0.5
    assert report["macro avg"] == pytest.approx({"precision": 1 / 4, "recall": 7 / 24, "f1-score": 15 / 56,
                                                 "support": 6})
    # weights 2/6, 3/6, 1/6, 0: precision (1 + 1.5)/6, recall (1 + 2)/6, f1 (1 + 12/7)/6
    assert report["weighted avg"] == pytest.approx({"precision": 5 / 12, "recall": 1 / 2, "f1-score": 19 / 42,
                                                    "support": 6})
    text = format_report(report)
    assert "macro avg" in text and "accuracy" in text and len(text.splitlines()) == 10


LOGITS = [[0.1, 0.5, 0.3, 0.0],   # target 2: second highest
          [1.0, 0.0, 0.0, 0.0],   # target 0: highest
          [0.2, 0.2, 0.9, 0.1]]   # target 1: tied with class 0, which wins the tie → third
LOGIT_TARGET = [2, 0, 1]


@pytest.mark.parametrize("k, expected", [(1, 1 / 3), (2, 2 / 3), (3, 1.0), (4, 1.0)])
def test_top_k_accuracy(k, expected):
    assert top_k_accuracy(np.array(LOGITS), LOGIT_TARGET, k) == pytest.approx(expected)


def test_accuracy_from_logits_and_perfect_predictions():
    assert accuracy(minitune.tensor(LOGITS), LOGIT_TARGET) == pytest.approx(1 / 3)  # argmax 1, 0, 2
    assert confusion_matrix(LOGIT_TARGET, np.array(LOGITS), 4).tolist() == [[1, 0, 0, 0], [0, 0, 1, 0],
                                                                            [0, 1, 0, 0], [0, 0, 0, 0]]
    p, r, f, _ = precision_recall_f1([0, 1, 2], [0, 1, 2], 3)
    assert p.tolist() == r.tolist() == f.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("call, error, match", [
    (lambda: accuracy([0, 1], [0, 1, 1]), ValueError, "different lengths"),
    (lambda: confusion_matrix([0, 4], [0, 1], 4), ValueError, "outside \\[0, 4\\)"),
    (lambda: confusion_matrix([0, -1], [0, 1], 4), ValueError, "outside"),
    (lambda: top_k_accuracy(np.array(LOGITS), LOGIT_TARGET, 5), ValueError, "k must be"),
    (lambda: accuracy([0.5, 1.0], [0, 1]), TypeError, "integer class indices"),
    (lambda: accuracy([], []), ValueError, "at least one sample"),
    (lambda: confusion_matrix([0], np.zeros((1, 3)), 4), ValueError, "3 columns"),
    (lambda: classification_report([0], [0], 2, target_names=["x"]), ValueError, "target_names"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
