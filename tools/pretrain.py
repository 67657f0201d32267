"""Pretrain minitune's built-in backbone: ``weights/resnet18-builtin.npz``.

    python tools/pretrain.py                      # the shipped recipe (seed 0): 120,000 images, 10 epochs
    python tools/pretrain.py --epochs 1 --train-per-class 20 --out /tmp/x.npz   # a smoke test

Recipe (every value is a flag, and all of them are recorded in the file's metadata):

* model: ``resnet18(num_classes=50, width=16, zero_init_residual=True)`` — torchvision's topology
  and key names with 16 base channels instead of 64.  Why 16: parameters and compute scale with
  width², so width 16 has 710,352 parameters (1/16 of 11.2 M; a 2.9 MB file instead of 45 MB) and
  trains ~10× faster, which is what makes a CPU pretraining and a 1-minute fine-tuning demo possible
  on 2 CPU cores; its 128-d features are plenty for 50 synthetic classes (0.944 top-1).  The shipped
  file took 3,653 s of wall time on 2 cores shared with six other jobs (load 8–12).
* data: ``minitune.data.source_task`` — 50 procedurally drawn classes (shapes, gratings, textures,
  hues, counts, lines) at 32×32, ``--train-per-class`` fresh images per class *every epoch* (epoch e
  draws sample indices e·n … e·n+n−1, so no image is seen twice), a fixed validation set
  (``split="val"``, ``--val-per-class`` per class); 240 per class × 10 epochs = 120,000 images.  Pixels x/255 normalized with the ImageNet
  mean/std, as ``minitune finetune`` feeds them.  No augmentation: the generator already
  randomizes colour, position, size and rotation, and a flip would turn a 45° grating into 135°.
* training: SGD (momentum 0.9, weight decay 5e-4) at lr 0.1, cosine-annealed to 0 over the epochs
  (stepped per epoch), batch 128, cross-entropy; BatchNorm in train mode.
* ``minitune.manual_seed(seed)`` fixes the initialization and the batch order; the images depend
  on ``seed`` only.  Same seed, same recipe, same numba/numpy → the same file (float summation
  order in the kernels may differ across machines, so the sha256 may not).

The file is written in minitune's converted format (``save_converted``) with metadata:
architecture, width, the 50 class names, the input transform (32×32, ImageNet mean/std),
``recipe``, ``seed``, ``metrics`` (top-1 accuracy on the validation set per epoch) and the
wall time.  ``resnet18(weights="builtin")`` loads it (see ``minitune/models/weights.py``).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minitune  # noqa: E402
from minitune import Tensor, no_grad  # noqa: E402
from minitune.data.source_task import CLASSES, render_source_task  # noqa: E402
from minitune.io.npz_format import save_converted  # noqa: E402
from minitune.models import resnet18  # noqa: E402
from minitune.nn import functional as F  # noqa: E402
from minitune.optim import SGD  # noqa: E402
from minitune.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402

MEAN = np.array((0.485, 0.456, 0.406), dtype=np.float32)
STD = np.array((0.229, 0.224, 0.225), dtype=np.float32)


def to_input(images):
    """uint8 N×H×W×3 → float32 N×3×H×W, (x/255 − mean)/std."""
    return Tensor(((images.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2).copy())


@no_grad()
def accuracy(model, images, labels, batch=256):
    model.eval()
    correct = 0
    for i in range(0, len(labels), batch):
        correct += int((model(to_input(images[i:i + batch])).data.argmax(axis=1) == labels[i:i + batch]).sum())
    return correct / len(labels)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join("weights", "resnet18-builtin.npz"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train-per-class", type=int, default=240)
    p.add_argument("--val-per-class", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    a = p.parse_args(argv)
    recipe = {k: v for k, v in vars(a).items() if k != "out"}
    recipe.update(optimizer="SGD", schedule="CosineAnnealingLR(T_max=epochs), stepped per epoch",
                  loss="cross_entropy", augmentation="none (fresh procedural images every epoch)",
                  data="minitune.data.source_task: 50 classes", script="tools/pretrain.py")
    t_start = time.perf_counter()
    minitune.manual_seed(a.seed)
    model = resnet18(num_classes=len(CLASSES), width=a.width, zero_init_residual=True)
    opt = SGD(model.parameters(), lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    sched = CosineAnnealingLR(opt, T_max=a.epochs)
    val_x, val_y = render_source_task(a.val_per_class, a.image_size, a.seed, "val")
    order_rng = np.random.default_rng([a.seed, 1])
    history = []
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        x, y = render_source_task(a.train_per_class, a.image_size, a.seed, "train", start=epoch * a.train_per_class)
        order = order_rng.permutation(len(y))
        model.train()
        loss_sum, correct = 0.0, 0
        for i in range(0, len(order) - a.batch_size + 1, a.batch_size):  # drop the short last batch
            idx = order[i:i + a.batch_size]
            opt.zero_grad()
            logits = model(to_input(x[idx]))
            loss = F.cross_entropy(logits, Tensor(y[idx]))
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.data.argmax(axis=1) == y[idx]).sum())
        seen = (len(order) // a.batch_size) * a.batch_size
        lr = opt.param_groups[0]["lr"]
        sched.step()
        val_acc = accuracy(model, val_x, val_y)
        history.append({"epoch": epoch + 1, "lr": lr, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                        "val_acc": val_acc, "seconds": round(time.perf_counter() - t0, 1)})
        print(json.dumps(history[-1]), flush=True)
    seconds = time.perf_counter() - t_start
    meta = {
        "architecture": "resnet18", "width": a.width, "num_classes": len(CLASSES), "categories": list(CLASSES),
        "dataset": "minitune source task (minitune.data.source_task), 50 procedural classes",
        "transforms": {"resize_size": a.image_size, "crop_size": a.image_size, "interpolation": "bilinear",
                       "mean": MEAN.tolist(), "std": STD.tolist()},
        "recipe": recipe, "seed": a.seed,
        "metrics": {"source val acc@1": history[-1]["val_acc"], "val images": len(val_y),
                    "train images seen": a.epochs * a.train_per_class * len(CLASSES)},
        "history": history, "pretraining_seconds": round(seconds, 1),
        "environment": {"numpy": np.__version__, "python": sys.version.split()[0]},
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    save_converted(a.out, model.state_dict(), meta)
    print(f"wrote {a.out}: {os.path.getsize(a.out) / 1e6:.2f} MB, source val acc {history[-1]['val_acc']:.3f}, "
          f"{seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
