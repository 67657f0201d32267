"""``minitune predict``: the top-k classes of each image, with probabilities."""


def register(sub):
    p = sub.add_parser("predict", help="classify images with a fine-tuned checkpoint")
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="best.npz or last.npz from minitune finetune")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--topk", type=int, default=3)
    p.set_defaults(func=run)


def run(args):
    # Imported when the command runs, not when `minitune --help` builds the parser (no numba, no Pillow).
    import numpy as np

    from .. import no_grad, stack
    from ..finetune.inference import load_checkpoint_model, load_image
    from ..nn import functional as F

    model, classes, transform = load_checkpoint_model(args.checkpoint)
    k = max(1, min(args.topk, len(classes)))
    batch = stack([load_image(p, transform) for p in args.images])
    with no_grad():
        probs = F.softmax(model(batch), dim=1).data
    for path, p in zip(args.images, probs):
        top = np.argsort(-p, kind="stable")[:k]
        print(f"{path}: " + ", ".join(f"{classes[i]} {p[i]:.3f}" for i in top))
    return 0
