"""``minitune evaluate``: accuracy, per-class precision/recall/F1 and the confusion matrix of a checkpoint."""
from . import non_negative_int, positive_int


def register(sub):
    p = sub.add_parser("evaluate", help="evaluate a fine-tuned checkpoint on an image folder")
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="best.npz or last.npz from minitune finetune")
    p.add_argument("--data", required=True, metavar="DIR", help="image folder (DIR/val is used when it exists)")
    p.add_argument("--batch-size", type=positive_int, default=16)
    p.add_argument("--workers", type=non_negative_int, default=2, help="data-loading threads (default 2)")
    p.set_defaults(func=run)


def run(args):
    # Imported when the command runs, not when `minitune --help` builds the parser (no numba, no Pillow).
    from .. import metrics as M
    from ..data import DataLoader
    from ..finetune.inference import image_folder_for, load_checkpoint_model
    from ..finetune.loop import evaluate
    from ..finetune.progress import Progress

    model, classes, transform = load_checkpoint_model(args.checkpoint)
    folder = image_folder_for(args.data, classes, transform)
    loader = DataLoader(folder, batch_size=args.batch_size, num_workers=args.workers)
    bar = Progress(loader, "evaluate", total=len(folder), unit="img")
    loss, preds, targets, _ = evaluate(model, bar, bar)
    report = M.classification_report(targets, preds, len(classes), classes)
    print(f"{len(folder)} images, loss {loss:.4f}, accuracy {M.accuracy(preds, targets):.4f}")
    print(M.format_report(report))
    cm = M.confusion_matrix(targets, preds, len(classes))
    width = max(len(c) for c in classes) + 2
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{c[:8]:>9}" for c in classes))
    for name, row in zip(classes, cm):
        print(f"{name:<{width}}" + "".join(f"{int(v):>9}" for v in row))
    return 0
