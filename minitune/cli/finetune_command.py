"""``minitune finetune``: fine-tune ResNet-18 on an image folder or the built-in synthetic set."""
import argparse


def _l2sp(text):
    """"α,β" → (α, β); checked here, not by argparse, so that a mistake is one line (exit 2)."""
    if text is None:
        return None
    try:
        alpha, beta = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--l2sp expected two numbers ALPHA,BETA (e.g. 0.01,0.01), got {text!r}") from None
    return alpha, beta


def register(sub):
    p = sub.add_parser("finetune", help="fine-tune ResNet-18 (default: a small synthetic task, under a minute)",
                       description="Fine-tune ResNet-18. With no arguments: the built-in synthetic shapes task "
                                   "(12 images per class), from the converted ImageNet weights when present, else "
                                   "from minitune's built-in pretrained backbone.")
    p.add_argument("--data", metavar="DIR", help="image folder with train/<class>/ and val/<class>/ "
                                                 "(default: built-in synthetic shapes)")
    p.add_argument("--weights", default="auto", metavar="imagenet|builtin|PATH|none",
                   help="starting weights (default: imagenet when converted, else builtin)")
    p.add_argument("--strategy", choices=["head", "full", "bitfit", "lora"], default="full",
                   help="head: frozen backbone, new fc; full: every layer (default); bitfit: biases and "
                        "BatchNorm γ,β + fc; lora: low-rank adapters on every conv + fc")
    p.add_argument("--lora-rank", type=int, default=4, metavar="R", help="lora: rank r (default 4)")
    p.add_argument("--lora-alpha", type=float, metavar="A", help="lora: scale α, update (α/r)·B·A (default: r)")
    p.add_argument("--optimizer", choices=["sgd", "adam"],
                   help="default: sgd (momentum 0.9) from pretrained weights, adam from a random initialization")
    p.add_argument("--lr", type=float, help="learning rate of the head (default 0.01 from the built-in backbone, "
                                            "else 0.001)")
    p.add_argument("--backbone-lr", type=float, help="learning rate of the backbone (default: --lr)")
    p.add_argument("--lr-decay", type=float, metavar="γ", help="layer-wise lr decay: stage k from the top "
                                                               "(fc=0, layer4=1, …, stem=5) at lr·γᵏ")
    p.add_argument("--unfreeze-every", type=int, metavar="E", help="gradual unfreezing: the head first, one more "
                                                                   "stage (top first) every E epochs")
    p.add_argument("--l2sp", metavar="α,β", help="L2-SP: α/2‖θ−θ⁰‖² on the backbone + β/2‖θ‖² on "
                                                             "the head")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--freeze-bn", action="store_true", help="keep BatchNorm running statistics frozen")
    p.add_argument("--schedule", choices=["none", "step", "cosine"], default="none",
                   help="learning-rate schedule, stepped per epoch (step: x0.1 every 7 epochs)")
    p.add_argument("--epochs", type=int, help="default: 8 on the synthetic set, 5 on a folder")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--image-size", type=int, help="32…1024 (default: 32 from the built-in backbone, 64 otherwise "
                                                  "on the synthetic set; 224 on a folder)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random crops and flips (default: on for a folder, except head, which then caches "
                        "features; off on the synthetic set)")
    p.add_argument("--workers", type=int, default=2, help="data-loading threads (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/finetune, then runs/finetune-2, …)")
    p.add_argument("--overwrite", action="store_true", help="allow --out to name a folder holding a finished run")
    p.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR (its state.npz)")
    p.add_argument("--compare-scratch", action="store_true",
                   help="also train the same run from a random initialization (in OUT/scratch) and compare")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args):
    from ..finetune import FinetuneConfig, compare_with_scratch, fit

    config = FinetuneConfig(data=args.data, weights=args.weights, strategy=args.strategy, optimizer=args.optimizer,
                            lr=args.lr, backbone_lr=args.backbone_lr, lr_decay=args.lr_decay,
                            unfreeze_every=args.unfreeze_every, l2sp=_l2sp(args.l2sp), lora_rank=args.lora_rank,
                            lora_alpha=args.lora_alpha, momentum=args.momentum,
                            weight_decay=args.weight_decay, freeze_bn=args.freeze_bn, schedule=args.schedule,
                            epochs=args.epochs, batch_size=args.batch_size, image_size=args.image_size,
                            augment=args.augment, workers=args.workers, seed=args.seed, out=args.out,
                            overwrite=args.overwrite, resume=args.resume, progress=not args.no_progress)
    result = fit(config)
    if args.compare_scratch and not result["interrupted"]:
        result = compare_with_scratch(config, result)
    return 130 if result["interrupted"] else 0
