"""``compare_with_scratch``: the same run from a random initialization, and one line comparing them.

Transfer is shown by a difference: the run from pretrained weights against the *same* run —
same data, strategy, epochs, image size, batch size and seed — from a random initialization.
Only what has no meaning from scratch changes: no L2-SP (there is no θ⁰), and the optimizer
and lr a scratch run defaults to (Adam, 1e-3), unless ``--optimizer``/``--lr`` were given.

Python API (stable): ``compare_with_scratch(config, result, log=print) → result`` with
``result["scratch"]`` = the scratch run's best val accuracy, macro-F1 and epoch.
"""
import dataclasses
import os

from .config import FinetuneConfig
from .report import write_metrics
from .run import fit


def compare_with_scratch(config, result, log=print):
    """Run ``config`` from scratch into ``<out>/scratch``; log and record one comparison line."""
    resolved = dict(result["config"])
    resolved.update(weights="none", l2sp=None, resume=None, overwrite=True, optimizer=config.optimizer,
                    lr=config.lr, out=os.path.join(result["out"], "scratch"))
    fields = {f.name for f in dataclasses.fields(FinetuneConfig)}
    log("the same run from a random initialization, for comparison:")
    scratch = fit(FinetuneConfig(**{k: v for k, v in resolved.items() if k in fields}), log)
    if scratch["interrupted"] or "best" not in scratch or "best" not in result:
        return dict(result, interrupted=scratch["interrupted"])
    a, b = result["best"], scratch["best"]
    summary = {"val_acc": b["val_acc"], "val_macro_f1": b["val_macro_f1"], "best_epoch": scratch["best_epoch"],
               "out": scratch["out"]}
    result = dict(result, scratch=summary)
    write_metrics(result["out"], result)
    log(f"{result['weights']} vs scratch, {len(result['history'])} epochs each: best val acc {a['val_acc']:.3f} vs "
        f"{b['val_acc']:.3f} ({a['val_acc'] - b['val_acc']:+.3f}), macro-F1 {a['val_macro_f1']:.3f} vs "
        f"{b['val_macro_f1']:.3f}")
    return result
