"""``fit``: a whole fine-tuning run — data, model, optimizer, epochs, checkpoints, reports."""
import os
import time

from .. import manual_seed
from .. import metrics as M
from ..data import DataLoader
from ..io.fetch import converted_path
from ..models import resnet18
from ..optim import SGD, Adam
from ..optim.lr_scheduler import CosineAnnealingLR, StepLR
from .checkpoint import load_model_file, load_state, model_metadata, save_model, save_state
from .datasets import IMAGENET_MEAN, IMAGENET_STD, make_datasets
from .features import HeadOnly, backbone_features, feature_loader
from .loop import evaluate, train_one_epoch
from .progress import Progress
from .report import summary_table, write_charts, write_history, write_metrics
from .strategy import param_groups, set_train_mode


def build_model(weights, num_classes, log=print):
    """ResNet-18 with a ``num_classes`` head, from ``weights`` ("auto", "imagenet", "none" or a path)."""
    if weights == "auto":
        weights = "imagenet" if os.path.isfile(converted_path("resnet18")) else "none"
        if weights == "none":
            log(f"no converted ImageNet weights at {converted_path('resnet18')}: starting from a random "
                "initialization (get them with: minitune weights fetch resnet18)")
    if weights in (None, "none"):
        return resnet18(num_classes=num_classes), "random initialization"
    model = resnet18(weights=weights, num_classes=num_classes)
    return model, f"weights {weights}"


def make_optimizer(config, groups):
    if config.optimizer == "sgd":
        return SGD(groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return Adam(groups, lr=config.lr, weight_decay=config.weight_decay)


def make_scheduler(config, optimizer):
    """Stepped once per epoch, after the epoch's optimizer steps (as the tutorial does)."""
    if config.schedule == "step":
        return StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    if config.schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=config.epochs)
    return None


def fit(config, log=print):
    """Fine-tune as ``config`` says; returns a summary dict (also written to ``metrics.json``)."""
    c = config.resolved()
    os.makedirs(c.out, exist_ok=True)
    manual_seed(c.seed)
    train_set, val_set, classes, data_desc = make_datasets(c)
    log(data_desc)
    model, weights_desc = build_model(c.weights, len(classes), log)
    if c.optimizer is None:
        # From scratch, SGD at the fine-tuning lr of 1e-3 barely moves in a few epochs; Adam does.
        c.optimizer = "sgd" if weights_desc != "random initialization" else "adam"
        if c.optimizer == "adam":
            log("training from scratch: using adam (lr 1e-3); choose with --optimizer")
    groups = param_groups(model, c.strategy, c.lr, c.backbone_lr)
    optimizer = make_optimizer(c, groups)
    scheduler = make_scheduler(c, optimizer)
    meta = model_metadata(model, classes, c.image_size, IMAGENET_MEAN, IMAGENET_STD,
                          extra={"trained_with": "minitune finetune", "strategy": c.strategy})

    start_epoch, history, best = 0, [], None
    if c.resume:
        state = load_state(os.path.join(c.resume, "state.npz"))
        weights, saved_meta = load_model_file(os.path.join(c.resume, "last.npz"))
        if list(saved_meta["categories"]) != classes:
            raise ValueError(f"cannot resume: {c.resume} was trained on classes {saved_meta['categories']}, "
                             f"this data has {classes}")
        model.load_state_dict(weights)
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        start_epoch, history, best = state["epoch"], state["history"], state["best"]
        log(f"resumed from {c.resume} after epoch {start_epoch}")

    log(f"model: ResNet-18, {len(classes)}-way head, {weights_desc}; strategy {c.strategy}, "
        f"optimizer {c.optimizer} lr {c.lr:g}, {c.epochs} epochs, batch {c.batch_size}, augment {c.augment}")

    # Batches of 1 make train-mode BatchNorm fail; drop a short last batch when BN trains.
    bn_trains = c.strategy == "full" and not c.freeze_bn
    cached = c.strategy == "head" and not c.augment
    feature_seconds = None
    if cached:
        model.eval()
        plain = dict(batch_size=c.batch_size, shuffle=False, num_workers=c.workers, seed=c.seed)
        feats, t0 = [], time.perf_counter()
        for name, dataset in (("train", train_set), ("val", val_set)):
            bar = Progress(DataLoader(dataset, **plain), f"features {name}", total=len(dataset), unit="img",
                           enabled=c.progress)
            feats.append(backbone_features(model, bar, bar))
        tr, va = feats
        feature_seconds = time.perf_counter() - t0
        log(f"backbone features of {len(train_set) + len(val_set)} images computed once in {feature_seconds:.1f} s; "
            "the epochs train the head on them")
        train_loader = feature_loader(*tr, c.batch_size, True, c.seed)
        val_loader = feature_loader(*va, c.batch_size, False, c.seed)
        net = HeadOnly(model)
    else:
        train_loader = DataLoader(train_set, batch_size=c.batch_size, shuffle=True,
                                  drop_last=bn_trains and len(train_set) > c.batch_size,
                                  num_workers=c.workers, seed=c.seed)
        val_loader = DataLoader(val_set, batch_size=c.batch_size, shuffle=False, num_workers=c.workers, seed=c.seed)
        net = model

    interrupted = False
    epoch = start_epoch
    try:
        for epoch in range(start_epoch, c.epochs):
            t0 = time.perf_counter()
            lr = optimizer.param_groups[-1]["lr"]
            train_loader.set_epoch(epoch)
            set_train_mode(model, True, c.strategy, c.freeze_bn)
            bar = Progress(train_loader, f"epoch {epoch + 1}/{c.epochs} train", total=len(train_loader.dataset)
                           if not train_loader.drop_last else len(train_loader) * c.batch_size, unit="img",
                           enabled=c.progress)
            train_loss, train_acc = train_one_epoch(net, bar, optimizer, bar)
            model.eval()
            vbar = Progress(val_loader, f"epoch {epoch + 1}/{c.epochs} val", total=len(val_set), unit="img",
                            enabled=c.progress)
            val_loss, preds, targets, _ = evaluate(net, vbar, vbar)
            if scheduler is not None:
                scheduler.step()
            _, _, macro_f1 = M.macro_precision_recall_f1(targets, preds, len(classes))
            row = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss, "train_acc": train_acc,
                   "val_loss": val_loss, "val_acc": M.accuracy(preds, targets), "val_macro_f1": macro_f1,
                   "seconds": time.perf_counter() - t0}
            history.append(row)
            if best is None or row["val_acc"] > best["val_acc"]:
                best = dict(row, preds=preds.tolist(), targets=targets.tolist())
                save_model(os.path.join(c.out, "best.npz"), model, dict(meta, epoch=epoch + 1))
            save_model(os.path.join(c.out, "last.npz"), model, dict(meta, epoch=epoch + 1))
            save_state(os.path.join(c.out, "state.npz"), {
                "epoch": epoch + 1, "history": history, "best": best, "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None, "config": c.to_dict()})
            write_history(c.out, history)
            log(f"epoch {epoch + 1}/{c.epochs}: train loss {train_loss:.4f} acc {train_acc:.3f} | val loss "
                f"{val_loss:.4f} acc {row['val_acc']:.3f} macro-F1 {macro_f1:.3f} | {row['seconds']:.1f} s")
    except KeyboardInterrupt:
        interrupted = True
        save_model(os.path.join(c.out, "last.npz"), model, dict(meta, epoch=len(history)))
        save_state(os.path.join(c.out, "state.npz"), {
            "epoch": len(history), "history": history, "best": best, "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None, "config": c.to_dict()})
        log(f"interrupted during epoch {epoch + 1}: saved {os.path.join(c.out, 'last.npz')}; "
            f"continue with --resume {c.out}")

    result = {"classes": classes, "data": data_desc, "weights": weights_desc, "config": c.to_dict(),
              "history": history, "interrupted": interrupted, "feature_seconds": feature_seconds}
    confusion = None
    if best is not None:
        confusion = M.confusion_matrix(best["targets"], best["preds"], len(classes))
        result.update(best_epoch=best["epoch"], best={k: v for k, v in best.items() if k not in ("preds", "targets")},
                      report=M.classification_report(best["targets"], best["preds"], len(classes), classes),
                      confusion_matrix=confusion.tolist(),
                      seconds_per_epoch=sum(r["seconds"] for r in history) / len(history))
    write_metrics(c.out, result)
    write_history(c.out, history)
    write_charts(c.out, history, confusion.tolist() if confusion is not None else None, classes)
    if history:
        log(summary_table(history, result.get("best_epoch")))
        log(f"best epoch {result['best_epoch']}: val acc {result['best']['val_acc']:.3f}; outputs in {c.out}")
    return result
