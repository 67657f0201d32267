"""``fit``: a whole fine-tuning run, in readable steps.

    fit(config)
      ├─ start_weights        "auto" → imagenet when converted, else the built-in backbone
      ├─ make_datasets        (datasets.py)
      ├─ build_model          ResNet-18 + the strategy's changes (LoRA adapters), trainable counts
      ├─ Training             model, optimizer (+ L2-SP), scheduler, history, best — and
      │   .state() / resume   the one dict state.npz holds (built in one place)
      ├─ make_loaders         image loaders, or cached backbone features for ``head``
      ├─ run_epoch            train (progress bar) → validate (progress bar) → schedule → row
      ├─ save_checkpoint      best.npz when val accuracy improves; state.npz every epoch
      └─ report               history.csv, metrics.json, charts, summary, what was written

Ctrl-C: the state of the last *completed* epoch is what ``state.npz`` holds (it is written at
the end of every epoch); the partial epoch is discarded, and ``--resume DIR`` replays it from
its start — the order and augmentations of an epoch depend only on (seed, epoch) — so an
interrupted-and-resumed run ends with exactly the tensors of an uninterrupted one.

Python API (stable): ``fit(config, log=print) → result dict``, ``build_model(weights,
num_classes, strategy="full", …)``, ``start_weights(weights, log)``.
"""
import os
import time

from .. import manual_seed
from .. import metrics as M
from ..data import DataLoader
from ..io.fetch import converted_path
from ..models import resnet18
from ..models.weights import builtin_path
from ..optim import SGD, Adam
from ..optim.lr_scheduler import CosineAnnealingLR, StepLR
from .checkpoint import load_model_file, load_state, model_metadata, save_model, save_state
from .datasets import IMAGENET_MEAN, IMAGENET_STD, make_datasets
from .features import HeadOnly, backbone_features, feature_loader
from .l2sp import L2SP
from .loop import evaluate, train_one_epoch
from .outputs import RunFolder, choose_folder, describe
from .progress import Progress
from .report import summary_table, write_charts, write_history, write_metrics
from .strategy import (STAGES, apply_unfreezing, param_groups, prepare, set_train_mode, trainable_counts,
                       unfrozen_stages)


def start_weights(weights, log=print):
    """What ``weights`` means: "auto" is "imagenet" when converted, else "builtin" (said in one line)."""
    if weights != "auto":
        return weights
    if os.path.isfile(converted_path("resnet18")):
        return "imagenet"
    if builtin_path().is_file():
        log(f"no ImageNet weights at {converted_path('resnet18')}: starting from minitune's built-in pretrained "
            "backbone (weights/resnet18-builtin.npz; --weights none trains from scratch)")
        return "builtin"
    log("no ImageNet weights and no built-in backbone: starting from a random initialization")
    return "none"


def build_model(weights, num_classes, strategy="full", lora_rank=4, lora_alpha=None, width=None):
    """(ResNet-18 with a ``num_classes`` head from ``weights`` — "imagenet", "builtin", "none" or a
    path — prepared for ``strategy``, a description).  ``width``: base channels (default: the
    weights' own, 64 from a random initialization)."""
    if weights in (None, "none"):
        model, desc = resnet18(num_classes=num_classes, width=width), "random initialization"
    else:
        model, desc = resnet18(weights=weights, num_classes=num_classes, width=width), f"weights {weights}"
    return prepare(model, strategy, lora_rank, lora_alpha), desc


def make_optimizer(c, groups):
    if c.optimizer == "sgd":
        return SGD(groups, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    return Adam(groups, lr=c.lr, weight_decay=c.weight_decay)


def make_scheduler(c, optimizer):
    """Stepped once per epoch, after the epoch's optimizer steps (as the tutorial does)."""
    if c.schedule == "step":
        return StepLR(optimizer, step_size=c.step_size, gamma=c.gamma)
    if c.schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=c.epochs)
    return None


class Training:
    """What changes while a run trains, and the one dict ``state.npz`` stores of it."""

    def __init__(self, c, model):
        self.c, self.model = c, model
        groups = param_groups(model, c.strategy, c.lr, c.backbone_lr, c.lr_decay)
        self.optimizer = make_optimizer(c, groups)
        if c.l2sp is not None:
            self.optimizer = L2SP(self.optimizer, model, *c.l2sp)
        self.scheduler = make_scheduler(c, self.optimizer)
        self.epoch, self.history, self.best = 0, [], None
        self.stages_said = None  # the unfrozen stages last announced

    def state(self):
        return {"epoch": self.epoch, "history": self.history, "best": self.best,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "config": self.c.to_dict()}

    def resume(self, folder, classes):
        """Load ``folder/state.npz`` (the last completed epoch)."""
        state = load_state(os.path.join(folder, "state.npz"))
        missing = [k for k in ("epoch", "history", "optimizer", "config") if k not in state]
        if missing:
            raise ValueError(f"cannot resume: {folder}/state.npz lacks {missing}")
        saved = state["config"]
        if saved.get("strategy") != self.c.strategy:
            raise ValueError(f"cannot resume: {folder} was trained with --strategy {saved.get('strategy')}, "
                             f"not {self.c.strategy}")
        weights = state.get("model")
        if weights is None:  # a state.npz from before the model moved into it
            weights, meta = load_model_file(os.path.join(folder, "last.npz"))
            if list(meta["categories"]) != classes:
                raise ValueError(f"cannot resume: {folder} was trained on classes {meta['categories']}, "
                                 f"this data has {classes}")
        _load_weights(self.model, weights, folder)
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.history, self.best = state["epoch"], state["history"], state["best"]


def _load_weights(model, weights, folder):
    try:
        model.load_state_dict(weights)
    except (KeyError, ValueError, RuntimeError) as exc:
        raise ValueError(f"cannot resume: the model in {folder}/state.npz does not fit this run "
                         f"({str(exc).splitlines()[0][:300]})") from None


class Loaders:
    """The train and val loaders of a run, and the network they feed (the model, or its head alone)."""

    def __init__(self, c, train_set, val_set, model):
        self.cached = c.strategy == "head" and not c.augment
        self.feature_seconds = None
        if self.cached:
            self._cache_features(c, train_set, val_set, model)
            return
        bn_trains = c.strategy != "head" and not c.freeze_bn  # a batch of 1 fails train-mode BatchNorm
        self.train = DataLoader(train_set, batch_size=c.batch_size, shuffle=True, num_workers=c.workers, seed=c.seed,
                                drop_last=bn_trains and len(train_set) > c.batch_size)
        self.val = DataLoader(val_set, batch_size=c.batch_size, num_workers=c.workers, seed=c.seed)
        self.net = model

    def _cache_features(self, c, train_set, val_set, model):
        model.eval()
        feats, t0 = [], time.perf_counter()
        for name, dataset in (("train", train_set), ("val", val_set)):
            loader = DataLoader(dataset, batch_size=c.batch_size, num_workers=c.workers, seed=c.seed)
            with Progress(None, f"features {name}", total=len(dataset), unit="img", enabled=c.progress) as bar:
                feats.append(backbone_features(model, loader, bar))
        self.feature_seconds = time.perf_counter() - t0
        self.train = feature_loader(*feats[0], c.batch_size, True, c.seed)
        self.val = feature_loader(*feats[1], c.batch_size, False, c.seed)
        self.net = HeadOnly(model)

    def train_images(self):
        return len(self.train) * self.train.batch_size if self.train.drop_last else len(self.train.dataset)


def count_line(model):
    trainable, total = trainable_counts(model)
    return f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.2f} %)"


def run_epoch(t, loaders, classes, log):
    """Train one epoch, validate, step the schedule; returns the epoch's history row."""
    c, epoch, t0 = t.c, t.epoch, time.perf_counter()
    stages = unfrozen_stages(epoch, c.unfreeze_every)
    if c.unfreeze_every:
        apply_unfreezing(t.model, c.strategy, stages)
        if stages != t.stages_said:
            log(f"epoch {epoch + 1}: training stages {', '.join(STAGES[:stages])}; {count_line(t.model)}")
            t.stages_said = stages
    lr = t.optimizer.param_groups[-1]["lr"]
    loaders.train.set_epoch(epoch)
    set_train_mode(t.model, True, c.strategy, c.freeze_bn, stages)
    desc = f"epoch {epoch + 1}/{c.epochs}"
    with Progress(None, f"{desc} train", total=loaders.train_images(), unit="img", enabled=c.progress) as bar:
        train_loss, train_acc = train_one_epoch(loaders.net, loaders.train, t.optimizer, bar)
    t.model.eval()
    with Progress(None, f"{desc} val", total=len(loaders.val.dataset), unit="img", enabled=c.progress) as bar:
        val_loss, preds, targets, _ = evaluate(loaders.net, loaders.val, bar)
    if t.scheduler is not None:
        t.scheduler.step()
    _, _, macro_f1 = M.macro_precision_recall_f1(targets, preds, len(classes))
    row = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
           "val_acc": M.accuracy(preds, targets), "val_macro_f1": macro_f1, "seconds": time.perf_counter() - t0}
    return row, preds, targets


def save_checkpoint(t, out, row, preds, targets, meta):
    """Record the epoch; best.npz when val accuracy improved; state.npz (the resumable state) always."""
    t.history.append(row)
    t.epoch = row["epoch"]
    if t.best is None or row["val_acc"] > t.best["val_acc"]:
        t.best = dict(row, preds=preds.tolist(), targets=targets.tolist())
        save_model(os.path.join(out, "best.npz"), t.model, dict(meta, epoch=row["epoch"]))
    save_state(os.path.join(out, "state.npz"), t.state())
    write_history(out, t.history)


def report(t, out, classes, extra, log):
    """metrics.json, history.csv, charts and the summary; returns the result dict."""
    result = dict(extra, classes=classes, config=t.c.to_dict(), history=t.history)
    confusion = None
    if t.best is not None:
        best = t.best
        confusion = M.confusion_matrix(best["targets"], best["preds"], len(classes))
        result.update(best_epoch=best["epoch"], best={k: v for k, v in best.items() if k not in ("preds", "targets")},
                      report=M.classification_report(best["targets"], best["preds"], len(classes), classes),
                      confusion_matrix=confusion.tolist(),
                      seconds_per_epoch=sum(r["seconds"] for r in t.history) / len(t.history))
    if not t.history:
        return result  # nothing trained: nothing to report (and an empty new folder is removed)
    write_metrics(out, result)
    write_history(out, t.history)
    write_charts(out, t.history, confusion.tolist() if confusion is not None else None, classes)
    log(summary_table(t.history, result.get("best_epoch")))
    log(f"best epoch {result['best_epoch']}: val acc {result['best']['val_acc']:.3f}")
    log(describe(out))
    return result


def fit(config, log=print):
    """Fine-tune as ``config`` says; returns a summary dict (also written to ``metrics.json``)."""
    said = []
    weights = start_weights(config.weights, said.append)
    c = config.resolved(weights)  # every value checked before anything is said: a mistake is one line
    for line in said:
        log(line)
    folder = RunFolder(choose_folder(c.out, c.resume, c.overwrite))
    with folder as out:
        c.out = out
        manual_seed(c.seed)
        train_set, val_set, classes, data_desc = make_datasets(c)
        log(data_desc)
        model, weights_desc = build_model(weights, len(classes), c.strategy, c.lora_rank, c.lora_alpha, c.width)
        c.width = model.conv1.out_channels
        t = Training(c, model)
        if c.resume:
            t.resume(c.resume, classes)
            log(f"resumed from {c.resume} after epoch {t.epoch}")
        log(f"model: ResNet-18 (width {c.width}), {len(classes)}-way head, {weights_desc}; "
            f"strategy {c.strategy}, optimizer {c.optimizer} lr {c.lr:g}, {c.epochs} epochs, batch {c.batch_size}, "
            f"{c.image_size}x{c.image_size}, augment {c.augment}; {count_line(model)}")
        meta = model_metadata(model, classes, c.image_size, IMAGENET_MEAN, IMAGENET_STD,
                              extra={"trained_with": "minitune finetune", "strategy": c.strategy,
                                     "start": weights_desc, "width": c.width})
        loaders = Loaders(c, train_set, val_set, model)
        if loaders.cached:
            log(f"backbone features of {len(train_set) + len(val_set)} images computed once in "
                f"{loaders.feature_seconds:.1f} s; the epochs train the head on them")
        interrupted = train_epochs(t, loaders, classes, out, meta, log)
        extra = {"data": data_desc, "weights": weights_desc, "interrupted": interrupted,
                 "feature_seconds": loaders.feature_seconds, "trainable_parameters": trainable_counts(model)[0],
                 "out": out}
        return report(t, out, classes, extra, log)


def train_epochs(t, loaders, classes, out, meta, log):
    """The epochs from ``t.epoch`` on; True when Ctrl-C stopped them (the partial epoch is discarded)."""
    try:
        while t.epoch < t.c.epochs:
            row, preds, targets = run_epoch(t, loaders, classes, log)
            save_checkpoint(t, out, row, preds, targets, meta)
            log(f"epoch {row['epoch']}/{t.c.epochs}: train loss {row['train_loss']:.4f} acc {row['train_acc']:.3f} | "
                f"val loss {row['val_loss']:.4f} acc {row['val_acc']:.3f} macro-F1 {row['val_macro_f1']:.3f} | "
                f"{row['seconds']:.1f} s")
    except KeyboardInterrupt:
        saved = f"{out}/state.npz holds epoch {t.epoch}; continue with --resume {out}" if t.epoch else \
            "no epoch was completed, nothing to resume"
        log(f"interrupted during epoch {t.epoch + 1}: that partial epoch is discarded; {saved}")
        return True
    return False
