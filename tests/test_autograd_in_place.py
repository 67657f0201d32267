"""In-place ops under autograd: ``F.relu(t, inplace=True)`` and ``t[idx] = v`` move t's history one node on.

The array is overwritten only when nothing else refers to it (``Tensor._owns_data``); otherwise t takes
a new array, so that what an earlier op saved keeps its values.  Expected gradients are derived by hand
from the values each op used, or compared with the same computation written out of place.
"""
import gc
import weakref

import numpy as np
import pytest

import minitune
import minitune.nn.functional as F

X = np.array([[-1.5, 0.25, 2.0], [-0.1, 3.0, -2.5]])


def _leaf(a=X, dtype=np.float64):
    return minitune.tensor(np.array(a, dtype=dtype), requires_grad=True)


def test_relu_inplace_returns_input_with_new_history():
    x = _leaf()
    h = x * 2
    before = h.grad_fn
    y = F.relu(h, inplace=True)
    assert y is h
    assert h.grad_fn is not before and h.grad_fn.name() == "ReLUBackward0"
    assert h.grad_fn.edges[0] is before  # the ReLU reads the product
    np.testing.assert_array_equal(h.data, np.maximum(2 * X, 0))


def test_relu_inplace_overwrites_an_array_nothing_else_holds():
    h = _leaf() * 2
    array_id = id(h.data)
    F.relu(h, inplace=True)
    assert id(h.data) == array_id  # written in place: no new array


def test_relu_inplace_gradient_equals_out_of_place():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(X.shape)

    def loss(inplace):
        x = _leaf()
        h = x * 3 - 1
        y = F.relu(h, inplace=inplace)
        (y * minitune.tensor(w)).sum().backward()
        return y.data, x.grad.data

    y0, g0 = loss(False)
    y1, g1 = loss(True)
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_array_equal(g1, g0)
    np.testing.assert_array_equal(g0, w * 3 * (3 * X - 1 > 0))  # dL/dx = w · [3x − 1 > 0] · 3


def test_relu_inplace_gradcheck():
    minitune.gradcheck(lambda x: F.relu(x * 1.5, inplace=True), _leaf())


def test_relu_inplace_keeps_what_an_earlier_op_saved():
    """torch raises at backward here ("modified by an inplace operation"); minitune gives h a new array,
    so the square still sees the values it was computed from, and the gradient is the one of those values."""
    x = _leaf()
    h = x * 2
    square = h * h  # saves h's array: the only reference besides h (no local here, which would also count)
    array_id = id(h.data)
    F.relu(h, inplace=True)
    assert id(h.data) != array_id
    np.testing.assert_array_equal(square.grad_fn.ctx.saved_tensors[0], 2 * X)  # what the square saved: untouched
    (square.sum() + h.sum()).backward()
    # d/dx [Σ (2x)² + Σ relu(2x)] = 8x + 2·[2x > 0]
    np.testing.assert_array_equal(x.grad.data, 8 * X + 2 * (X > 0))


def test_relu_inplace_with_a_view_held_writes_a_new_array():
    h = _leaf() * 2
    view = h.data[0]  # another reference into h's memory
    F.relu(h, inplace=True)
    np.testing.assert_array_equal(view, 2 * X[0])  # the view kept its values
    np.testing.assert_array_equal(h.data, np.maximum(2 * X, 0))


def test_relu_inplace_on_a_leaf_that_requires_grad_raises():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(_leaf(), inplace=True)


def test_relu_inplace_without_a_graph_overwrites():
    x = minitune.tensor(np.array(X))
    array = x.data
    assert F.relu(x, inplace=True) is x and x.data is array
    np.testing.assert_array_equal(array, np.maximum(X, 0))
    with minitune.no_grad():
        leaf = _leaf()
        assert F.relu(leaf, inplace=True) is leaf
    np.testing.assert_array_equal(leaf.data, np.maximum(X, 0))


def test_relu_module_inplace_in_a_training_graph():
    """nn.ReLU(inplace=True) after a batch norm, as in torchvision's blocks: same values and gradients
    as inplace=False, the batch norm's output array reused."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)

    def run(inplace):
        minitune.manual_seed(0)
        net = minitune.nn.Sequential(minitune.nn.Conv2d(3, 4, 3, padding=1), minitune.nn.BatchNorm2d(4),
                                     minitune.nn.ReLU(inplace=inplace), minitune.nn.Conv2d(4, 2, 1))
        y = net(minitune.tensor(x))
        (y * y).sum().backward()
        return [p.grad.data for p in net.parameters()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("op", ["batch_norm", "conv2d", "add"])
def test_relu_inplace_reuses_the_output_of_a_kernel_run_in_parts(op, threads):
    """With the kernels' work cut into parts on the thread pool (conftest ``threads``), the pool keeps no
    reference to a part's arrays once the call returns: the op's output is still owned by its tensor
    alone and the in-place ReLU writes into it.  (A worker used to hold its last part's closure, so
    every in-place ReLU of a ResNet step copied.)"""
    rng = np.random.default_rng(2)
    x = _leaf(rng.standard_normal((2, 3, 6, 6)), np.float32)
    w = _leaf(rng.standard_normal((3, 3, 3, 3)), np.float32)
    if op == "batch_norm":
        h = F.batch_norm(x, None, None, _leaf(np.ones(3), np.float32), _leaf(np.zeros(3), np.float32), training=True)
    elif op == "conv2d":
        h = F.conv2d(x, w, padding=1)
    else:
        h = x * 2 + x
    address = h.data.__array_interface__["data"][0]
    expected = np.maximum(h.data, 0)
    F.relu(h, inplace=True)
    assert h.data.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(h.data, expected)


@pytest.mark.parametrize("write", ["relu", "setitem"])
def test_in_place_ops_make_no_reference_cycle(write):
    """The new node reads a stand-in for the old value, not the tensor itself: dropping the tensor
    frees the node (and its arrays) at once, without the garbage collector."""
    x = _leaf()
    h = x * 2
    if write == "relu":
        F.relu(h, inplace=True)
    else:
        h[0] = 0.0
    node = weakref.ref(h.grad_fn)
    gc.disable()
    try:
        del h
        assert node() is None
    finally:
        gc.enable()


def test_owns_data():
    t = minitune.tensor(np.array(X))
    assert t._owns_data()
    d = t.detach()  # shares the array
    assert not t._owns_data()
    del d
    assert t._owns_data()
    a = t.numpy()
    assert not t._owns_data()
    del a
    view = minitune.Tensor(np.arange(6.0).reshape(2, 3))  # a view of a fresh array
    assert view._owns_data()
    base = view.data.base
    assert not view._owns_data()  # the base is referred to
    del base
    read_only = np.array(X)
    read_only.flags.writeable = False
    assert not minitune.Tensor(read_only)._owns_data()
    assert not minitune.Tensor(np.frombuffer(bytearray(16), dtype=np.float64))._owns_data()  # not an array's view


@pytest.mark.parametrize("write", ["relu", "setitem"])
def test_retain_grad_follows_the_in_place_op(write):
    """As torch: after an in-place op, a retained .grad is dL/d(the new value), not of the value before."""
    x = _leaf(np.array([-1.0, 2.0, 3.0]))
    h = x * 2
    h.retain_grad()
    if write == "relu":
        F.relu(h, inplace=True)
    else:
        h[0] = 5.0
    w = np.array([1.0, 10.0, 100.0])
    (h * minitune.tensor(w)).sum().backward()
    np.testing.assert_array_equal(h.grad.data, w)  # dL/dh of L = Σ w·h, h the tensor after the write
