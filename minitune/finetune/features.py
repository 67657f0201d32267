"""Backbone features, computed once, for the ``head`` strategy without augmentation.

With the backbone frozen and in eval mode, f(x) = fc(φ(x)) where φ (everything up to the
average pool) never changes.  So φ(x) can be computed once per image and the head trained
on the cached features: the same gradients and the same result as running the whole
network every epoch, for the cost of one forward pass per image.  That pass runs on a copy
of the backbone whose eval-mode batch norms are folded into the convolutions before them
(``fold_batch_norms``, ``torch.nn.utils.fusion.fuse_conv_bn_eval``): the same features to
float32 rounding, one pass over each activation fewer.
"""
import copy

import numpy as np

from ..autograd import no_grad, tensor
from ..data import DataLoader, TensorDataset
from ..models.resnet import BasicBlock, ResNet
from ..nn import Identity
from ..nn.utils.fusion import fuse_conv_bn_eval


def fold_batch_norms(model):
    """A copy of an eval-mode ResNet with each batch norm folded into the convolution before it and
    replaced by Identity; any other model (or one in training mode) is returned as it is."""
    if not isinstance(model, ResNet) or model.training:
        return model
    folded = copy.deepcopy(model)
    pairs = [(folded, "conv1", "bn1")]
    for layer in (folded.layer1, folded.layer2, folded.layer3, folded.layer4):
        for block in layer:
            if not isinstance(block, BasicBlock):
                return model
            pairs += [(block, "conv1", "bn1"), (block, "conv2", "bn2")]
            if block.downsample is not None:
                pairs.append((block.downsample, "0", "1"))
    for parent, conv, bn in pairs:
        setattr(parent, conv, fuse_conv_bn_eval(getattr(parent, conv), getattr(parent, bn)))
        setattr(parent, bn, Identity())
    return folded


@no_grad()
def backbone_features(model, loader, progress=None):
    """(features N × d, labels N) for every image of ``loader``; the model must be in eval mode (a
    ResNet runs with its batch norms folded, on a copy)."""
    net = fold_batch_norms(model)
    head = net.fc
    net.fc = Identity()
    feats, labels = [], []
    try:
        for images, y in loader:
            feats.append(net(images).data)
            labels.append(y.data)
            if progress is not None:
                progress.update(len(y))
    finally:
        net.fc = head
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
