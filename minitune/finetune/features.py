"""Backbone features, computed once, for the ``head`` strategy without augmentation.

With the backbone frozen and in eval mode, f(x) = fc(φ(x)) where φ (everything up to the
average pool) never changes.  So φ(x) can be computed once per image and the head trained
on the cached features: the same gradients and the same result as running the whole
network every epoch, for the cost of one forward pass per image.
"""
import numpy as np

from ..autograd import no_grad, tensor
from ..data import DataLoader, TensorDataset
from ..nn import Identity


@no_grad()
def backbone_features(model, loader, progress=None):
    """(features N × d, labels N) for every image of ``loader``; the model must be in eval mode."""
    head = model.fc
    model.fc = Identity()
    feats, labels = [], []
    try:
        for images, y in loader:
            feats.append(model(images).data)
            labels.append(y.data)
            if progress is not None:
                progress.update(len(y))
    finally:
        model.fc = head
    return np.concatenate(feats), np.concatenate(labels)


class HeadOnly:
    """Make a model's ``fc`` callable like the whole model on cached features."""

    def __init__(self, model):
        self.model = model

    def __call__(self, features):
        return self.model.fc(features)


def feature_loader(features, labels, batch_size, shuffle, seed):
    return DataLoader(TensorDataset(tensor(features), tensor(labels)), batch_size=batch_size, shuffle=shuffle,
                      seed=seed)
