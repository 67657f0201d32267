"""Classification metrics on labels or logits (numpy arrays, lists or minitune Tensors).

Notation, for class c of C:  TP_c = #{i: y_i = c, ŷ_i = c},  FP_c = #{i: y_i ≠ c, ŷ_i = c},
FN_c = #{i: y_i = c, ŷ_i ≠ c},  support_c = TP_c + FN_c.

Zero division never happens and never warns: a ratio whose denominator is 0 is 0, as
scikit-learn's ``zero_division=0`` and torchmetrics define it.  So a class that is never
predicted has precision 0, a class absent from the targets has recall 0, and F1 is 0
when precision + recall = 0.

Macro averages run over all ``num_classes`` classes, including classes absent from both
targets and predictions (they count as 0), which is scikit-learn's result with
``labels=range(num_classes)``, ``average="macro"``, ``zero_division=0``.  (Without
``labels`` scikit-learn would average only over the labels that occur.)
"""
import numpy as np

from .autograd.tensor import Tensor


def _numeric_array(x, name):
    """``x`` (array, list or Tensor) as a numeric numpy array."""
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (array, list or Tensor), got dtype {arr.dtype}")
    return arr


def _class_indices(x, name, num_classes=None):
    """``x`` as a 1-D int64 array of class indices (integral floats accepted), each in [0, num_classes)."""
    arr = _numeric_array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise TypeError(f"{name} must hold integer class indices, got non-integer floats")
    arr = arr.astype(np.int64)
    if num_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"{name} holds class indices outside [0, {num_classes}): min {arr.min()}, max {arr.max()}")
    return arr


def _target_and_pred(target, pred, num_classes=None):
    """``(target, pred)`` as int64 vectors; ``pred`` may be (N, C) logits (argmax over classes)."""
    if num_classes is not None and (not isinstance(num_classes, (int, np.integer)) or num_classes < 1):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    p = _numeric_array(pred, "pred")
    if p.ndim == 2:
        if num_classes is not None and p.shape[1] != num_classes:
            raise ValueError(f"logits have {p.shape[1]} columns but num_classes = {num_classes}")
        p = p.argmax(axis=1)
    p = _class_indices(p, "pred", num_classes)
    t = _class_indices(target, "target", num_classes)
    if t.shape != p.shape:
        raise ValueError(f"target and pred have different lengths: {t.shape[0]} vs {p.shape[0]}")
    if t.size == 0:
        raise ValueError("metrics need at least one sample, got empty target and pred")
    return t, p


def _ratio(num, den):
    """``num / den`` elementwise, 0 where ``den == 0`` (no warning)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def accuracy(pred_or_logits, target):
    """Fraction of correct predictions: ``acc = (1/N) Σ_i [ŷ_i = y_i]``.

    ``pred_or_logits`` is (N,) class indices or (N, C) scores (ŷ_i = argmax_c scores_ic).
    Returns a Python float.
    """
    t, p = _target_and_pred(target, pred_or_logits)
    return float(np.mean(t == p))


def top_k_accuracy(logits, target, k=5):
    """``(1/N) Σ_i [y_i ∈ top_k(scores_i)]``: the true class is among the k highest scores.

    Ties are broken toward the lower class index (a stable descending sort), so exactly
    k classes count as "top k".
    """
    s = _numeric_array(logits, "logits")
    if s.ndim != 2:
        raise ValueError(f"logits must have shape (N, C), got {s.shape}")
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be an int in [1, {s.shape[1]}] (the number of classes), got {k!r}")
    t = _class_indices(target, "target", s.shape[1])
    if t.shape[0] != s.shape[0]:
        raise ValueError(f"logits have {s.shape[0]} rows but target has {t.shape[0]} entries")
    if t.size == 0:
        raise ValueError("metrics need at least one sample, got empty logits and target")
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == t[:, None], axis=1)))


def confusion_matrix(target, pred, num_classes):
    """``M[i, j] = #{samples with true class i predicted as j}`` (rows = truth, as scikit-learn).

    ``pred`` may be labels or (N, C) logits.  Returns an int64 (C, C) array.
    """
    t, p = _target_and_pred(target, pred, num_classes)
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def precision_recall_f1(target, pred, num_classes):
    """Per class c, from the confusion matrix M:

        precision_c = TP_c / (TP_c + FP_c) = M[c, c] / Σ_i M[i, c]     (0 if never predicted)
        recall_c    = TP_c / (TP_c + FN_c) = M[c, c] / Σ_j M[c, j]     (0 if absent from target)
        f1_c        = 2 · precision_c · recall_c / (precision_c + recall_c)   (0 if the sum is 0)
        support_c   = Σ_j M[c, j]

    Returns four length-C arrays ``(precision, recall, f1, support)`` (float64 ×3, int64).
    """
    m = confusion_matrix(target, pred, num_classes)
    tp = np.diag(m)
    precision = _ratio(tp, m.sum(axis=0))
    recall = _ratio(tp, m.sum(axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return precision, recall, f1, m.sum(axis=1)


def macro_precision_recall_f1(target, pred, num_classes):
    """Unweighted means over all C classes: ``macro_x = (1/C) Σ_c x_c`` for x in (precision, recall, f1).

    Note macro-F1 is the mean of the per-class F1, not the F1 of the macro precision and recall.
    """
    precision, recall, f1, _ = precision_recall_f1(target, pred, num_classes)
    return float(precision.mean()), float(recall.mean()), float(f1.mean())


def classification_report(target, pred, num_classes, target_names=None):
    """scikit-learn's ``classification_report(..., output_dict=True)`` for ``labels=range(C)``:

        {name_c: {"precision", "recall", "f1-score", "support"}, ...,
         "accuracy": acc,
         "macro avg":    means over classes,
         "weighted avg": Σ_c support_c · x_c / Σ_c support_c}
    """
    if target_names is None:
        target_names = [str(c) for c in range(num_classes)]
    target_names = list(target_names)
    if len(target_names) != num_classes:
        raise ValueError(f"target_names has {len(target_names)} names but num_classes = {num_classes}")
    t, p = _target_and_pred(target, pred, num_classes)
    precision, recall, f1, support = precision_recall_f1(t, p, num_classes)
    report = {}
    for c, name in enumerate(target_names):
        report[name] = {"precision": float(precision[c]), "recall": float(recall[c]), "f1-score": float(f1[c]),
                        "support": int(support[c])}
    report["accuracy"] = float(np.mean(t == p))
    total = int(support.sum())
    report["macro avg"] = {"precision": float(precision.mean()), "recall": float(recall.mean()),
                           "f1-score": float(f1.mean()), "support": total}
    w = support / total
    report["weighted avg"] = {"precision": float(w @ precision), "recall": float(w @ recall),
                              "f1-score": float(w @ f1), "support": total}
    return report


def format_report(report, digits=3):
    """The report dict as a text table, laid out like scikit-learn's: one row per class, then
    accuracy, macro avg and weighted avg."""
    classes = [k for k in report if k not in ("accuracy", "macro avg", "weighted avg")]
    width = max([len(c) for c in classes] + [len("weighted avg")])

    def row(name, v):
        return (f"{name:>{width}} {v['precision']:>9.{digits}f} {v['recall']:>9.{digits}f} "
                f"{v['f1-score']:>9.{digits}f} {v['support']:>9}")

    lines = [f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}", ""]
    lines += [row(c, report[c]) for c in classes]
    lines += ["", f"{'accuracy':>{width}} {'':>9} {'':>9} {report['accuracy']:>9.{digits}f} "
                  f"{report['macro avg']['support']:>9}"]
    lines += [row(name, report[name]) for name in ("macro avg", "weighted avg")]
    return "\n".join(lines)
