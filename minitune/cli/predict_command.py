"""``minitune predict``: the top-k classes of each image, with probabilities."""
from . import CLIError, positive_int

DEFAULT_TOPK = 3


def register(sub):
    p = sub.add_parser("predict", help="classify images with a fine-tuned checkpoint")
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="best.npz or last.npz from minitune finetune")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--topk", type=positive_int, default=None,
                   help=f"how many classes to print per image (default {DEFAULT_TOPK}, or all when fewer); "
                        "at most the number of classes")
    p.set_defaults(func=run)


def run(args):
    # Imported when the command runs, not when `minitune --help` builds the parser (no numba, no Pillow).
    import numpy as np

    from .. import no_grad, stack
    from ..finetune.inference import load_checkpoint_model, load_image
    from ..nn import functional as F

    model, classes, transform = load_checkpoint_model(args.checkpoint)
    if args.topk is not None and args.topk > len(classes):
        raise CLIError(f"--topk {args.topk} is more than the {len(classes)} classes of {args.checkpoint}")
    k = args.topk or min(DEFAULT_TOPK, len(classes))
    batch = stack([load_image(p, transform) for p in args.images])
    with no_grad():
        probs = F.softmax(model(batch), dim=1).data
    for path, p in zip(args.images, probs):
        top = np.argsort(-p, kind="stable")[:k]
        print(f"{path}: " + ", ".join(f"{classes[i]} {p[i]:.3f}" for i in top))
    return 0
