"""One training epoch, evaluation and prediction.

A training step on a batch (x, y) of N images:

    z = f_θ(x)                               logits, N × K
    L = −(1/N) Σᵢ log softmax(zᵢ)[yᵢ]        cross-entropy
    g = ∇_θ L                                backward
    θ ← update(θ, g)                         the optimizer's rule (SGD with momentum, Adam)
"""
import numpy as np

from ..autograd import no_grad
from ..nn import functional as F


def train_one_epoch(model, loader, optimizer, progress=None):
    """Run one pass over ``loader``, stepping ``optimizer`` after every batch.

    Returns (mean loss, accuracy) over the samples seen.  ``model`` must already be in the
    strategy's train mode.  ``progress`` (optional) gets ``update(n, loss=…)`` per batch.
    """
    loss_sum, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        # BEGIN SOLUTION A5: implement one training step: zero the grads, forward, cross-entropy, backward, optimizer step
        optimizer.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        # END SOLUTION
        n = len(labels)
        loss_sum += loss.item() * n
        correct += int((logits.data.argmax(axis=1) == labels.data).sum())
        seen += n
        if progress is not None:
            progress.update(n, loss=loss.item())
    return loss_sum / max(seen, 1), correct / max(seen, 1)


@no_grad()
def evaluate(model, loader, progress=None):
    """Mean cross-entropy, predictions, targets and softmax probabilities over ``loader``.

    The caller puts the model in eval mode: BatchNorm then uses its running statistics, so a
    prediction does not depend on the other images in the batch.
    """
    loss_sum, preds, targets, probs = 0.0, [], [], []
    for images, labels in loader:
        logits = model(images)
        loss = F.cross_entropy(logits, labels, reduction="sum")
        loss_sum += loss.item()
        p = F.softmax(logits, dim=1).data
        probs.append(p)
        preds.append(p.argmax(axis=1))
        targets.append(labels.data)
        if progress is not None:
            progress.update(len(labels), loss=loss.item() / len(labels))
    n = sum(len(t) for t in targets)
    cat = (lambda xs, dt: np.concatenate(xs) if xs else np.zeros(0, dt))
    return loss_sum / max(n, 1), cat(preds, np.int64), cat(targets, np.int64), \
        (np.concatenate(probs) if probs else np.zeros((0, 0), np.float32))
