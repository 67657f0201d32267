"""Ctrl-C anywhere inside an epoch, then --resume: the same tensors as an uninterrupted run.

The run keeps the state of the last *completed* epoch (state.npz, written at each epoch's end)
and discards a partial one; resuming replays that epoch from its start, and an epoch's order
and augmentations depend only on (seed, epoch).  Interrupts are raised from the progress bar's
``update``, which the loop calls after every training and validation batch.
"""
import numpy as np
import pytest

from minitune.finetune import FinetuneConfig, fit
from minitune.finetune.checkpoint import load_state
from minitune.finetune.progress import Progress

pytestmark = pytest.mark.finetune

# 3 classes... of the 4 shapes: 4 × 5 = 20 train images, batch 8 → 2 batches (the short last one dropped);
# 4 × 3 = 12 val images → 2 batches.  Per epoch: 2 train updates, then 2 val updates.
TINY = dict(synthetic_train_per_class=5, synthetic_val_per_class=3, image_size=32, batch_size=8, weights="none",
            width=4, epochs=3, progress=False, augment=True, schedule="step", step_size=1, gamma=0.5)


def _config(tmp_path, name, workers, **kw):
    return FinetuneConfig(out=str(tmp_path / name), workers=workers, **dict(TINY, **kw))


def _flatten(tree, prefix=""):
    """Every array of a decoded state, by path."""
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flatten(sub, f"{prefix}/{key}").items()}
    if isinstance(tree, (list, tuple)):
        return {k: v for i, sub in enumerate(tree) for k, v in _flatten(sub, f"{prefix}/{i}").items()}
    return {prefix: np.asarray(getattr(tree, "data", tree))}


def _interrupt_at(monkeypatch, n):
    real = Progress.update
    calls = []

    def update(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Progress, "update", update)
    return real


@pytest.mark.parametrize("workers", [0, 2])
def test_interrupt_inside_an_epoch_then_resume_gives_every_tensor(tmp_path, monkeypatch, workers):
    quiet = lambda *a: None  # noqa: E731
    fit(_config(tmp_path, "straight", workers), log=quiet)
    straight = load_state(tmp_path / "straight" / "state.npz")
    # update calls: epoch 1 = 1, 2 (train) 3, 4 (val); epoch 2 = 5, 6, 7, 8; epoch 3 = 9 …
    for n in (6, 7, 10):  # mid-train of epoch 2, mid-val of epoch 2, mid-train of epoch 3
        name = f"cut{n}"
        real = _interrupt_at(monkeypatch, n)
        logs = []
        result = fit(_config(tmp_path, name, workers), log=logs.append)
        monkeypatch.setattr(Progress, "update", real)
        done = (n - 1) // 4
        assert result["interrupted"] and len(result["history"]) == done
        assert any("partial epoch is discarded" in line for line in logs)
        assert load_state(tmp_path / name / "state.npz")["epoch"] == done
        fit(_config(tmp_path, name, workers, resume=str(tmp_path / name)), log=quiet)
        resumed = load_state(tmp_path / name / "state.npz")
        a, b = _flatten({k: straight[k] for k in ("model", "optimizer", "scheduler")}), \
            _flatten({k: resumed[k] for k in ("model", "optimizer", "scheduler")})
        assert a.keys() == b.keys() and len(a) > 100
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"cut at update {n}: {key}")
        drop = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
        assert drop(straight["history"]) == drop(resumed["history"])


def test_interrupt_in_the_first_epoch_leaves_no_folder(tmp_path, monkeypatch):
    _interrupt_at(monkeypatch, 1)
    logs = []
    result = fit(_config(tmp_path, "gone", 0), log=logs.append)
    assert result["interrupted"] and not result["history"]
    assert not (tmp_path / "gone").exists() and "nothing to resume" in logs[-1]
