"""Batch norm folded into the convolution before it (torch.nn.utils.fusion), and the head strategy's
folded backbone: the same outputs as conv then bn in eval mode, the originals untouched."""
import copy

import numpy as np
import pytest

import minitune as mt
from minitune import nn
from minitune.finetune.features import backbone_features, fold_batch_norms
from minitune.models import resnet18
from minitune.nn.utils.fusion import fuse_conv_bn_eval

pytestmark = pytest.mark.nn


def _random_bn(bn, rng):
    bn.running_mean.data[:] = rng.standard_normal(bn.num_features)
    bn.running_var.data[:] = rng.random(bn.num_features) + 0.3
    if bn.affine:
        bn.weight.data[:] = rng.standard_normal(bn.num_features)
        bn.bias.data[:] = rng.standard_normal(bn.num_features)


@pytest.mark.parametrize("bias,affine,stride", [(False, True, 1), (True, True, 2), (True, False, 1)])
def test_fused_convolution_is_bn_after_conv(bias, affine, stride):
    rng = np.random.default_rng(0)
    conv, bn = nn.Conv2d(3, 5, 3, stride=stride, padding=1, bias=bias), nn.BatchNorm2d(5, affine=affine)
    _random_bn(bn, rng)
    conv.eval(), bn.eval()
    before = copy.deepcopy(conv.state_dict())
    fused = fuse_conv_bn_eval(conv, bn)
    x = mt.tensor(rng.standard_normal((2, 3, 9, 9)).astype(np.float32))
    np.testing.assert_allclose(fused(x).data, bn(conv(x)).data, rtol=1e-5, atol=1e-5)
    assert fused is not conv and fused.bias is not None and (conv.bias is None) == (not bias)
    for name, value in before.items():  # conv left as it was
        np.testing.assert_array_equal(conv.state_dict()[name].data, value.data)


def test_fusion_refuses_training_mode():
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        fuse_conv_bn_eval(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))


def test_folded_resnet_gives_the_same_features_and_leaves_the_model_alone():
    rng = np.random.default_rng(1)
    model = resnet18(num_classes=3, width=8)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            _random_bn(m, rng)
    model.eval()
    folded = fold_batch_norms(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 20
    x = mt.tensor(rng.standard_normal((4, 3, 32, 32)).astype(np.float32))
    with mt.no_grad():
        want, got = model(x).data, folded(x).data
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    loader = [(x, mt.tensor(np.arange(4)))]
    feats, labels = backbone_features(model, loader)
    assert feats.shape == (4, 64) and isinstance(model.fc, nn.Linear)
    assert fold_batch_norms(model.train()) is model  # training mode: nothing to fold
