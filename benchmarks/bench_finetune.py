"""End to end on the real ants/bees folder: fine-tuning ResNet-18, minitune against torch (a benchmark, not a test).

    python benchmarks/bench_finetune.py                       # ../shared/data/hymenoptera_data, batch 32
    python benchmarks/bench_finetune.py --threads 1 --reps 2  # one thread each, two alternations
    python benchmarks/bench_finetune.py --only head           # one of the two measurements

Two measurements, each printed as minitune/torch time (1.0 = as fast as torch, lower is faster):

- ``full``: one fine-tuning epoch over train/ (224 px, RandomResizedCrop + flip, batch 32),
  every parameter training (SGD, momentum 0.9), BatchNorm in training mode — the same loop
  in torch (``tools/references/_torch_resnet.py``, the torchvision topology).
- ``head``: the ``head`` strategy, ``--head-epochs`` epochs.  minitune computes the frozen
  backbone's features once (``minitune.finetune.features.backbone_features``, eval transform,
  no augmentation) and trains fc on them; torch runs the tutorial's "ConvNet as fixed
  feature extractor" loop, the whole frozen backbone forward every epoch (``requires_grad``
  off, BatchNorm in eval mode), fc trained by backprop.

Both sides get the *same* batches from the *same* data pipeline (minitune's ImageFolder,
transforms and DataLoader): each epoch's batches are decoded once, the decoding time is
printed apart, and the timed loops run over the decoded arrays — so the ratios compare the
compute.  minitune and torch alternate ``--reps`` times; medians are printed.  Weights are
random (the time does not depend on their values).
"""
import argparse
import os
import sys
import time


def _threads_from_argv():
    argv = sys.argv[1:]
    return int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 2


THREADS = _threads_from_argv()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))

import numpy as np  # noqa: E402
import torch  # noqa: E402  (torch first: its OpenMP runtime starts with the user's settings)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tools", "references"))

import minitune  # noqa: E402
import minitune.nn.functional as F  # noqa: E402

minitune.set_num_threads(THREADS)  # the same count as torch's, whatever OMP_NUM_THREADS says
from _torch_resnet import resnet18 as torch_resnet18  # noqa: E402
from minitune.data import DataLoader, ImageFolder  # noqa: E402
from minitune.finetune.datasets import eval_transform, train_transform  # noqa: E402
from minitune.finetune.features import HeadOnly, backbone_features, feature_loader  # noqa: E402
from minitune.finetune.loop import train_one_epoch  # noqa: E402
from minitune.finetune.strategy import param_groups, set_train_mode  # noqa: E402
from minitune.models import resnet18  # noqa: E402
from minitune.optim import SGD  # noqa: E402

DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "hymenoptera_data")


def decoded_batches(root, augment, batch, limit):
    """The batches of one epoch of train/ as numpy arrays, and the seconds it took to decode them."""
    transform = train_transform(224, augment) if augment else eval_transform(224)
    dataset = ImageFolder(os.path.join(root, "train"), transform=transform)
    if limit:
        dataset.samples = dataset.samples[:limit]
        dataset.targets = dataset.targets[:limit]
    t = time.perf_counter()
    batches = [(x.data, y.data) for x, y in DataLoader(dataset, batch_size=batch, shuffle=augment, seed=0)]
    return batches, time.perf_counter() - t


# ---------------------------------------------------------------- full: one epoch, every parameter trains

def minitune_full_epoch(batches):
    model = resnet18(num_classes=2)
    optimizer = SGD(param_groups(model, "full", 1e-3), lr=1e-3, momentum=0.9)
    set_train_mode(model, True, "full")
    loader = [(minitune.tensor(x), minitune.tensor(y)) for x, y in batches]
    t = time.perf_counter()
    train_one_epoch(model, loader, optimizer)
    return time.perf_counter() - t


def torch_full_epoch(batches):
    torch.manual_seed(0)
    model = torch_resnet18(num_classes=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    model.train()
    t = time.perf_counter()
    for x, y in batches:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
    return time.perf_counter() - t


# ---------------------------------------------------------------- head: frozen backbone, fc trains

def minitune_head(eval_batches, epochs, batch):
    """Features once (eval mode), then ``epochs`` epochs of fc on the cached features."""
    model = resnet18(num_classes=2)
    optimizer = SGD(param_groups(model, "head", 1e-3), lr=1e-3, momentum=0.9)
    model.eval()
    loader = [(minitune.tensor(x), minitune.tensor(y)) for x, y in eval_batches]
    t = time.perf_counter()
    features, labels = backbone_features(model, loader)
    head = HeadOnly(model)
    set_train_mode(model, True, "head")
    for epoch in range(epochs):
        train_one_epoch(head, feature_loader(features, labels, batch, shuffle=True, seed=epoch), optimizer)
    return time.perf_counter() - t


def torch_head(batches, epochs):
    """The tutorial's fixed-feature-extractor loop: the frozen backbone runs forward every epoch."""
    torch.manual_seed(0)
    model = torch_resnet18(num_classes=2)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=1e-3, momentum=0.9)
    model.eval()  # frozen BatchNorm, as minitune's head strategy
    t = time.perf_counter()
    for _ in range(epochs):
        for x, y in batches:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
            loss.backward()
            optimizer.step()
    return time.perf_counter() - t


def _alternate(ours, theirs, reps):
    mt, tt = [], []
    for _ in range(reps):
        mt.append(ours())
        tt.append(theirs())
    return float(np.median(mt)), float(np.median(tt))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=1, help="alternations of minitune and torch (median)")
    ap.add_argument("--head-epochs", type=int, default=5)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images (0: all)")
    ap.add_argument("--only", choices=["full", "head"])
    args = ap.parse_args(argv)
    torch.set_num_threads(THREADS)
    print(f"ResNet-18 fine-tuning on {args.data}, 224 px, batch {args.batch}, threads {THREADS}, reps {args.reps}")
    if args.only != "head":
        batches, t_load = decoded_batches(args.data, True, args.batch, args.limit)
        n = sum(len(y) for _, y in batches)
        minitune_full_epoch(batches[:1])  # compile the kernels
        m, t = _alternate(lambda: minitune_full_epoch(batches), lambda: torch_full_epoch(batches), args.reps)
        print(f"full, one epoch ({n} images; decoding them: {t_load:.1f} s, not timed below)")
        print(f"  minitune {m:7.1f} s   torch {t:7.1f} s   ratio minitune/torch {m / t:.2f}"
              f"   (with decoding: {(m + t_load) / (t + t_load):.2f})")
    if args.only != "full":
        eval_batches, t_eval = decoded_batches(args.data, False, args.batch, args.limit)
        batches, t_load = decoded_batches(args.data, True, args.batch, args.limit)
        n = sum(len(y) for _, y in batches)
        m, t = _alternate(lambda: minitune_head(eval_batches, args.head_epochs, args.batch),
                          lambda: torch_head(batches, args.head_epochs), args.reps)
        print(f"head, {args.head_epochs} epochs ({n} images; decoding one epoch: {t_eval:.1f} s, not timed)")
        print(f"  minitune (features once) {m:7.1f} s   torch (backbone every epoch) {t:7.1f} s"
              f"   ratio minitune/torch {m / t:.2f}")


if __name__ == "__main__":
    main()
