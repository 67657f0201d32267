"""Live comparisons with an installed torch: a full-width ResNet-18 (torchvision's structure rebuilt
in ``tools/references/_torch_resnet.py``) forward, loss, gradients and running statistics, its repr,
and cross-entropy on random option combinations."""
import itertools
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minitune as mt  # noqa: E402
import minitune.nn.functional as F  # noqa: E402
import nn_cases  # noqa: E402
from conftest import ROOT  # noqa: E402
from minitune import nn  # noqa: E402
from minitune.models import resnet18  # noqa: E402

pytestmark = [pytest.mark.nn, pytest.mark.live_torch]


@pytest.fixture(scope="module")
def torch_resnet():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from references._torch_resnet import resnet18 as torch_resnet18
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return torch_resnet18


def _randomize_bn(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("width, num_classes, size", [(64, 1000, 64), (8, 7, 48)])
def test_resnet18_matches_torch(torch_resnet, width, num_classes, size):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    ref = torch_resnet(num_classes=num_classes, width=width)
    _randomize_bn(ref, gen)
    ours = resnet18(width=width, num_classes=num_classes)
    assert ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()}) == ([], [])
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    x = torch.randn(2, 3, size, size, generator=gen)
    target = torch.randint(0, num_classes, (2,), generator=gen)

    ref.eval()
    ours.eval()
    with torch.no_grad():
        expected = ref(x).numpy()
    with mt.no_grad():
        np.testing.assert_allclose(ours(mt.tensor(x.numpy())).data, expected, rtol=1e-4, atol=1e-5)

    ref.train()
    ours.train()
    ref_loss = torch.nn.functional.cross_entropy(ref(x), target)
    ref_loss.backward()
    loss = F.cross_entropy(ours(mt.tensor(x.numpy())), mt.tensor(target.numpy()))
    loss.backward()
    np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-5)
    ref_params = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        g = ref_params[name].grad.numpy()
        np.testing.assert_allclose(p.grad.data, g, rtol=0, atol=1e-4 * np.abs(g).max(), err_msg=name)
    ref_state = ref.state_dict()
    for name, v in ours.state_dict().items():
        np.testing.assert_allclose(v.data, ref_state[name].numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_repr_equals_torchs(torch_resnet):
    assert repr(resnet18(num_classes=10)) == repr(torch_resnet(num_classes=10))


@pytest.mark.parametrize("case, make", nn_cases.REPRS, ids=[c[0] for c in nn_cases.REPRS])
def test_layer_reprs_equal_torchs(case, make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_loss_repr_equals_torchs():
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss())


@pytest.mark.parametrize("seed", range(8))
def test_cross_entropy_random_options(seed):
    rng = np.random.default_rng(seed)
    options = list(itertools.product([None, "w"], ["none", "mean", "sum"], [0.0, 0.15], ["index", "prob", "spatial"]))
    weight, reduction, eps, kind = options[rng.integers(len(options))]
    n, c = int(rng.integers(1, 6)), int(rng.integers(2, 6))
    shape = (n, c, 3) if kind == "spatial" else (n, c)
    x = rng.standard_normal(shape) * 3
    if kind == "prob":
        target = rng.dirichlet(np.ones(c), size=n)
    else:
        target = rng.integers(-1, c, shape[:1] + shape[2:])
        target[target == -1] = 1 if seed % 2 else -100  # sometimes ignore_index hits a real class
    ignore_index = 1 if seed % 2 and kind != "prob" else -100  # torch refuses ignore_index with probabilities
    w = rng.random(c) + 0.1 if weight else None
    kwargs = dict(reduction=reduction, label_smoothing=eps, ignore_index=ignore_index)
    tx = torch.tensor(x, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(tx, torch.tensor(target), weight=None if w is None else torch.tensor(w), **kwargs)
    up = rng.standard_normal(t_loss.shape)
    t_loss.backward(torch.tensor(up))
    ox = mt.tensor(x, requires_grad=True)
    o_loss = F.cross_entropy(ox, mt.tensor(target), weight=None if w is None else mt.tensor(w), **kwargs)
    o_loss.backward(mt.tensor(up))
    np.testing.assert_allclose(o_loss.data, t_loss.detach().numpy(), rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(ox.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("bias,affine,transpose", [(False, True, False), (True, True, False), (True, False, False),
                                                   (False, True, True)])
def test_fuse_conv_bn_weights_matches_torch(bias, affine, transpose):
    """torch.nn.utils.fusion.fuse_conv_bn_weights on the same random arrays: values and requires_grad."""
    from torch.nn.utils.fusion import fuse_conv_bn_weights as torch_fuse

    from minitune.nn.utils.fusion import fuse_conv_bn_weights

    rng = np.random.default_rng(5)
    w = rng.standard_normal((4, 6, 3, 3)).astype(np.float32)
    c = w.shape[1] if transpose else w.shape[0]
    arrays = [w, rng.standard_normal(c).astype(np.float32) if bias else None,
              rng.standard_normal(c).astype(np.float32), (rng.random(c) + 0.5).astype(np.float32),
              rng.random(c).astype(np.float32) + 0.5 if affine else None,
              rng.standard_normal(c).astype(np.float32) if affine else None]
    params = [0, 1, 4, 5]  # weight, bias, γ, β are Parameters (requires_grad); running stats are not
    ours = fuse_conv_bn_weights(*[None if a is None else (nn.Parameter(a) if i in params else mt.tensor(a))
                                  for i, a in enumerate(arrays[:4])], 1e-5,
                                *[None if a is None else nn.Parameter(a) for a in arrays[4:]], transpose=transpose)
    theirs = torch_fuse(*[None if a is None else (torch.nn.Parameter(torch.from_numpy(a)) if i in params
                                                  else torch.from_numpy(a)) for i, a in enumerate(arrays[:4])], 1e-5,
                        *[None if a is None else torch.nn.Parameter(torch.from_numpy(a)) for a in arrays[4:]],
                        transpose)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)
        assert o.requires_grad == t.requires_grad and o.dtype == np.float32
