"""``Module``: registration by attribute, traversal, modes, state_dict / load_state_dict, repr;
``Sequential`` and ``ModuleList``."""
from collections import OrderedDict

import numpy as np
import pytest

import minitune as mt
from minitune import nn

pytestmark = pytest.mark.nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(3)
        self.register_buffer("scratch", mt.zeros(2), persistent=False)
        self.scale = 2.0  # a plain attribute: not registered

    def forward(self, x):
        return self.bn(self.conv(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(Block(), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


def test_attribute_assignment_registers():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["features", "pool", "fc"]
    assert [n for n, _ in net.named_parameters()] == [
        "features.0.conv.weight", "features.0.bn.weight", "features.0.bn.bias", "fc.weight", "fc.bias"]
    assert [n for n, _ in net.named_buffers()] == [  # a module's own first, then its children's
        "features.0.scratch", "features.0.bn.running_mean", "features.0.bn.running_var",
        "features.0.bn.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == [
        "", "features", "features.0", "features.0.conv", "features.0.bn", "features.1", "pool", "fc"]
    assert len(list(net.parameters())) == 5 and len(list(net.buffers())) == 4
    assert len(list(net.modules())) == 8 and len(list(net.children())) == 3
    assert net.get_submodule("features.0.bn") is net.features[0].bn


def test_state_dict_keys_values_and_order():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["features.0.conv.weight", "features.0.bn.weight", "features.0.bn.bias",
                        "features.0.bn.running_mean", "features.0.bn.running_var",
                        "features.0.bn.num_batches_tracked", "fc.weight", "fc.bias"]  # scratch is not persistent
    nbt = sd["features.0.bn.num_batches_tracked"]
    assert nbt.shape == () and nbt.dtype == np.int64
    assert isinstance(sd["fc.weight"], mt.Tensor) and not isinstance(sd["fc.weight"], nn.Parameter)
    assert not sd["fc.weight"].requires_grad
    assert np.shares_memory(sd["fc.weight"].data, net.fc.weight.data)  # detached, not copied (as torch)


def test_state_dict_round_trip_from_numpy_and_tensors():
    a, b = Net(), Net()
    mt.manual_seed(5)
    b.fc.reset_parameters()
    b.features[0].bn.running_mean.data[:] = [1, 2, 3]
    b.features[0].bn.num_batches_tracked.data[...] = 7
    for state in ({k: v.numpy().copy() for k, v in b.state_dict().items()}, b.state_dict()):
        a = Net()
        weight = a.fc.weight
        result = a.load_state_dict(state)
        assert result.missing_keys == [] and result.unexpected_keys == []
        assert a.fc.weight is weight  # copied in place: an optimizer holding the Parameter sees the new values
        for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
            np.testing.assert_array_equal(va.data, vb.data, err_msg=k)
            assert va.dtype == vb.dtype


def test_load_state_dict_casts_to_the_module_dtype():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})  # float64 arrays
    assert lin.weight.dtype == np.float32 and lin.weight.data.sum() == 4


def test_load_state_dict_reports_every_problem_at_once():
    net = Net()
    state = net.state_dict()
    del state["fc.bias"], state["features.0.bn.running_var"]
    state["fc.extra"] = mt.zeros(1)
    state["head.weight"] = mt.zeros(1)
    state["fc.weight"] = mt.zeros(5, 3)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    for fragment in ('Missing key(s) in state_dict: "features.0.bn.running_var", "fc.bias"',
                     'Unexpected key(s) in state_dict: "head.weight", "fc.extra"',
                     "size mismatch for fc.weight: copying a param with shape torch.Size([5, 3]) from checkpoint, "
                     "the shape in current model is torch.Size([2, 3])"):
        assert fragment in message


def test_load_state_dict_non_strict_returns_the_differences():
    net = Net()
    state = net.state_dict()
    del state["fc.bias"]
    state["fc.extra"] = mt.zeros(1)
    result = net.load_state_dict(state, strict=False)
    assert result == (["fc.bias"], ["fc.extra"])
    assert result.missing_keys == ["fc.bias"] and result.unexpected_keys == ["fc.extra"]
    state["fc.weight"] = mt.zeros(5, 3)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):  # shapes are checked even then
        net.load_state_dict(state, strict=False)


def test_missing_num_batches_tracked_is_not_an_error():
    # Checkpoints from before torch 0.4.1 have no num_batches_tracked; torch keeps the current counter.
    net = Net()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert net.load_state_dict(state) == ([], [])
    assert net.features[0].bn.num_batches_tracked.item() == 0


@pytest.mark.parametrize("bad", [[1, 2], "weights", None])
def test_load_state_dict_rejects_values_that_are_not_arrays(bad):
    lin = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match='parameter named "bias"'):
        lin.load_state_dict({"weight": lin.weight.detach(), "bias": bad})


def test_train_eval_switches_every_module():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_requires_grad_false_freezes_parameters():
    net = Net()
    net.features.requires_grad_(False)
    out = net(mt.randn(2, 2, 4, 4))
    out.sum().backward()
    assert all(p.grad is None for p in net.features.parameters())
    assert net.fc.weight.grad is not None and net.fc.bias.grad is not None


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    net = Net()
    net(mt.randn(2, 2, 4, 4)).sum().backward()
    net.zero_grad(set_to_none=set_to_none)
    for p in net.parameters():
        assert p.grad is None if set_to_none else not p.grad.data.any()


def test_apply_visits_children_before_parent():
    order = []
    net = Net()
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Conv2d", "BatchNorm2d", "Block", "ReLU", "Sequential", "AdaptiveAvgPool2d", "Linear", "Net"]


def test_assignment_rules():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = mt.zeros(2, 2)  # a plain Tensor cannot replace a Parameter
    lin.bias = None
    assert lin.bias is None and "bias" in lin._parameters
    lin.extra = nn.Parameter(mt.ones(1))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "extra"]
    del lin.extra
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    with pytest.raises(KeyError, match="buffer name"):
        lin.register_buffer("a.b", mt.zeros(1))
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        lin.missing  # noqa: B018


def test_shared_parameters_are_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert len(seq.state_dict()) == 4  # the state_dict keeps both names, as torch


def test_module_to_double():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.features[0].bn.num_batches_tracked.dtype == np.int64
    assert net(mt.randn(1, 2, 3, 3, dtype=mt.float64)).dtype == np.float64


def test_sequential_and_modulelist():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2] and list(seq) == layers
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == layers[1:]
    x = mt.randn(4, 2)
    np.testing.assert_array_equal(seq(x).data, layers[2](layers[1](layers[0](x))).data)
    named = nn.Sequential(OrderedDict([("first", layers[0]), ("act", layers[1])]))
    assert list(named.state_dict()) == ["first.weight", "first.bias"]
    ml = nn.ModuleList(layers)
    ml.append(nn.Identity())
    assert len(ml) == 4 and ml[3](x) is x
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError):
        seq[3]  # noqa: B018


def test_repr_like_torch():
    net = Net()
    assert repr(net) == "\n".join([
        "Net(",
        "  (features): Sequential(",
        "    (0): Block(",
        "      (conv): Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)",
        "      (bn): BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
        "    )",
        "    (1): ReLU()",
        "  )",
        "  (pool): AdaptiveAvgPool2d(output_size=1)",
        "  (fc): Linear(in_features=3, out_features=2, bias=True)",
        ")",
    ])
