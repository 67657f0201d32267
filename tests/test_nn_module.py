"""``Module``: registration by attribute, traversal, modes, state_dict / load_state_dict, repr;
``Sequential`` and ``ModuleList``.  Key orders, reprs and load_state_dict's report are torch's, for
the same network (``nn_cases.make_net``), from ``tests/reference/nn_module_facts.npz``."""
import builtins
from collections import OrderedDict

import numpy as np
import pytest

import minitune as mt
import nn_cases
from conftest import load_reference
from minitune import nn

pytestmark = pytest.mark.nn

TORCH = load_reference("nn_module_facts")


def _net():
    return nn_cases.make_net(nn, mt)


def test_replacing_a_child_or_parameter_keeps_its_place():
    children, parameters = nn_cases.replaced_order(nn)
    assert children == TORCH["replaced_children"].tolist()
    assert parameters == TORCH["replaced_parameters"].tolist()


def test_attribute_assignment_registers():
    net = _net()
    assert [n for n, _ in net.named_children()] == TORCH["child_names"].tolist()
    assert [n for n, _ in net.named_parameters()] == TORCH["parameter_names"].tolist()
    assert [n for n, _ in net.named_buffers()] == TORCH["buffer_names"].tolist()  # own first, then children's
    assert [n for n, _ in net.named_modules()] == TORCH["module_names"].tolist()
    assert len(list(net.parameters())) == len(TORCH["parameter_names"])
    assert len(list(net.buffers())) == len(TORCH["buffer_names"])
    assert len(list(net.modules())) == len(TORCH["module_names"])
    assert len(list(net.children())) == len(TORCH["child_names"])
    assert net.get_submodule("features.0.bn") is net.features[0].bn


def test_state_dict_keys_values_and_order():
    net = _net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == TORCH["state_dict_keys"].tolist()  # "scratch" is not persistent
    nbt = sd["features.0.bn.num_batches_tracked"]
    assert nbt.shape == tuple(TORCH["counter_shape"]) and nbt.dtype == TORCH["counter_dtype"].item()
    assert isinstance(sd["fc.weight"], mt.Tensor) and not isinstance(sd["fc.weight"], nn.Parameter)
    assert not sd["fc.weight"].requires_grad
    assert np.shares_memory(sd["fc.weight"].data, net.fc.weight.data)  # detached, not copied (as torch)


def test_state_dict_round_trip_from_numpy_and_tensors():
    a, b = _net(), _net()
    mt.manual_seed(5)
    b.fc.reset_parameters()
    b.features[0].bn.running_mean.data[:] = [1, 2, 3]
    b.features[0].bn.num_batches_tracked.data[...] = 7
    for state in ({k: v.numpy().copy() for k, v in b.state_dict().items()}, b.state_dict()):
        a = _net()
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
    net = _net()
    torch_error, torch_message = TORCH["mismatch_error"].tolist()
    with pytest.raises(getattr(builtins, torch_error)) as info:  # RuntimeError
        net.load_state_dict(nn_cases.mismatched_state(net, mt))
    assert isinstance(info.value, ValueError)  # too, as every minitune bad-input error
    assert str(info.value) == torch_message


def test_load_state_dict_non_strict_returns_the_differences():
    net = _net()
    state = net.state_dict()
    del state["fc.bias"]
    state["fc.extra"] = mt.zeros(1)
    result = net.load_state_dict(state, strict=False)
    missing, unexpected = TORCH["not_strict_missing"].tolist(), TORCH["not_strict_unexpected"].tolist()
    assert result == (missing, unexpected)
    assert result.missing_keys == missing and result.unexpected_keys == unexpected
    state["fc.weight"] = mt.zeros(5, 3)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):  # shapes are checked even then
        net.load_state_dict(state, strict=False)


def test_missing_num_batches_tracked_is_not_an_error():
    # Checkpoints from before torch 0.4.1 have no num_batches_tracked; torch keeps the current counter.
    net = _net()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert net.load_state_dict(state) == ([], [])
    assert net.features[0].bn.num_batches_tracked.item() == 0


@pytest.mark.parametrize("bad", [[1, 2], "weights", None])
def test_load_state_dict_rejects_values_that_are_not_arrays(bad):
    lin = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match='parameter named "bias"'):
        lin.load_state_dict({"weight": lin.weight.detach(), "bias": bad})


def test_train_eval_switches_every_module():
    net = _net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_requires_grad_false_freezes_parameters():
    net = _net()
    net.features.requires_grad_(False)
    out = net(mt.randn(2, 2, 4, 4))
    out.sum().backward()
    assert all(p.grad is None for p in net.features.parameters())
    assert net.fc.weight.grad is not None and net.fc.bias.grad is not None


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    net = _net()
    net(mt.randn(2, 2, 4, 4)).sum().backward()
    net.zero_grad(set_to_none=set_to_none)
    for p in net.parameters():
        assert p.grad is None if set_to_none else not p.grad.data.any()


def test_apply_visits_children_before_parent():
    order = []
    net = _net()
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == TORCH["apply_order"].tolist()


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
    with pytest.raises(AttributeError) as info:
        nn.Linear(2, 2).missing  # noqa: B018
    assert str(info.value) == TORCH["missing_attribute_error"][1]


def test_shared_parameters_are_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == TORCH["shared_parameter_count"]  # 2
    assert len(seq.state_dict()) == TORCH["shared_state_dict_size"]  # 4: the state_dict keeps both names


def test_module_to_double():
    net = _net().double()
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
    assert repr(_net()) == TORCH["repr"].item()
