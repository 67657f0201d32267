"""``minitune finetune``: fine-tune ResNet-18 on an image folder or the built-in synthetic set."""
import argparse


def register(sub):
    p = sub.add_parser("finetune", help="fine-tune ResNet-18 (default: on the built-in synthetic set, ~1 minute)",
                       description="Fine-tune ResNet-18. With no arguments: the built-in synthetic set, from the "
                                   "converted ImageNet weights when present, else from a random initialization.")
    p.add_argument("--data", metavar="DIR", help="image folder with train/<class>/ and val/<class>/ "
                                                 "(default: built-in synthetic shapes)")
    p.add_argument("--weights", default="auto", metavar="imagenet|PATH|none",
                   help="starting weights (default: imagenet when converted, else none)")
    p.add_argument("--strategy", choices=["head", "full"], default="full",
                   help="head: frozen backbone (BN in eval), train a new fc; full: every layer (default)")
    p.add_argument("--optimizer", choices=["sgd", "adam"],
                   help="default: sgd (momentum 0.9) from pretrained weights, adam from a random initialization")
    p.add_argument("--lr", type=float, help="learning rate of the head (default 0.001)")
    p.add_argument("--backbone-lr", type=float, help="full: learning rate of the backbone (default: --lr)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--freeze-bn", action="store_true", help="full: keep BatchNorm running statistics frozen")
    p.add_argument("--schedule", choices=["none", "step", "cosine"], default="none",
                   help="learning-rate schedule, stepped per epoch (step: x0.1 every 7 epochs)")
    p.add_argument("--epochs", type=int, help="default 5")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--image-size", type=int, help="default: 64 on the synthetic set, 224 on a folder")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random crops and flips (default: on for full, off for head, which then caches features)")
    p.add_argument("--workers", type=int, default=2, help="data-loading threads (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/finetune", metavar="DIR", help="output folder (default runs/finetune)")
    p.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR (its last.npz and state.npz)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args):
    # Imported when the command runs, not when `minitune --help` builds the parser (no numba, no Pillow).
    from ..finetune import FinetuneConfig, fit

    config = FinetuneConfig(data=args.data, weights=args.weights, strategy=args.strategy, optimizer=args.optimizer,
                            lr=args.lr, backbone_lr=args.backbone_lr, momentum=args.momentum,
                            weight_decay=args.weight_decay, freeze_bn=args.freeze_bn, schedule=args.schedule,
                            epochs=args.epochs, batch_size=args.batch_size, image_size=args.image_size,
                            augment=args.augment, workers=args.workers, seed=args.seed, out=args.out,
                            resume=args.resume, progress=not args.no_progress)
    result = fit(config)
    return 130 if result["interrupted"] else 0
