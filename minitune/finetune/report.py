"""What a run leaves in its output folder besides checkpoints: ``history.csv``,
``metrics.json``, the PNG charts, and the summary table printed at the end."""
import csv
import json
import os

from .charts import confusion_chart, line_chart

HISTORY_FIELDS = ["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "val_macro_f1", "seconds"]


def write_history(out, history):
    path = os.path.join(out, "history.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HISTORY_FIELDS)
        w.writeheader()
        for row in history:
            w.writerow({k: row[k] for k in HISTORY_FIELDS})
    return path


def write_metrics(out, metrics):
    path = os.path.join(out, "metrics.json")
    with open(path, "w") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)
        f.write("\n")
    return path


def write_charts(out, history, confusion, classes):
    """loss.png and accuracy.png (the best epoch — the first with the highest val accuracy, the one
    best.npz holds — marked on both), and confusion_matrix.png."""
    paths = []
    if history:
        best = max(history, key=lambda r: r["val_acc"])["epoch"]
        paths.append(line_chart(os.path.join(out, "loss.png"),
                                {"train loss": [r["train_loss"] for r in history],
                                 "val loss": [r["val_loss"] for r in history]}, "cross-entropy loss", best_epoch=best))
        paths.append(line_chart(os.path.join(out, "accuracy.png"),
                                {"train acc": [r["train_acc"] for r in history],
                                 "val acc": [r["val_acc"] for r in history],
                                 "val macro F1": [r["val_macro_f1"] for r in history]}, "accuracy", best_epoch=best))
    if confusion is not None:
        paths.append(confusion_chart(os.path.join(out, "confusion_matrix.png"), confusion, classes))
    return paths


def summary_table(history, best_epoch):
    lines = [f"{'epoch':>5} {'lr':>9} {'train loss':>10} {'train acc':>9} {'val loss':>9} {'val acc':>8} "
             f"{'macro F1':>8} {'s':>6}"]
    for r in history:
        mark = " *" if r["epoch"] == best_epoch else ""
        lines.append(f"{r['epoch']:>5} {r['lr']:>9.2e} {r['train_loss']:>10.4f} {r['train_acc']:>9.3f} "
                     f"{r['val_loss']:>9.4f} {r['val_acc']:>8.3f} {r['val_macro_f1']:>8.3f} {r['seconds']:>6.1f}{mark}")
    return "\n".join(lines)
