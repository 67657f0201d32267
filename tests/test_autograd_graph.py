"""Graph semantics: accumulation, no_grad, retain_graph, non-leaf grads, deep graphs, errors."""
import numpy as np
import pytest

import minitune
from minitune import Function

pytestmark = pytest.mark.autograd


def leaf(*values, dtype=minitune.float64):
    return minitune.tensor(np.array(values, dtype=dtype), requires_grad=True)


def test_grad_accumulates_across_backward_calls():
    x = leaf(1.0, 2.0)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data + 3)


def test_shared_subexpression_sums_both_paths():
    x = leaf(3.0)
    y = x * x
    z = y + y * x  # dz/dx = 2x + 3x^2
    z.backward()
    assert x.grad.item() == 2 * 3 + 3 * 9


def test_no_grad_context_and_decorator():
    x = leaf(1.0)
    with minitune.no_grad():
        y = x * 2
        with minitune.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @minitune.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert minitune.is_grad_enabled()


def test_second_backward_through_freed_graph_raises():
    x = leaf(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_non_leaf_grad_kept_only_with_retain_grad():
    x = leaf(1.0, 2.0)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None and not h.is_leaf
    np.testing.assert_allclose(k.grad.data, h.data)
    assert x.is_leaf


def test_non_scalar_backward_needs_gradient():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(gradient=np.array([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, -2.0])


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minitune.tensor([1.0]).sum().backward()


def test_deep_graph_has_no_recursion_limit():
    x = leaf(0.5)
    y = x
    for _ in range(20000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_detach_cuts_the_graph_and_shares_memory():
    x = leaf(1.0, 2.0)
    d = x.detach()
    assert not d.requires_grad and d.data is x.data
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.data, x.data)


def test_comparisons_return_bool_without_grad():
    x = leaf(1.0, -2.0)
    m = x > 0
    assert m.dtype == np.bool_ and not m.requires_grad
    assert m.tolist() == [True, False]


def test_requires_grad_only_for_floats():
    with pytest.raises(TypeError, match="floating point"):
        minitune.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], np.float32), ([1, 2], np.int64), ([True], np.bool_),
    (np.zeros(2), np.float64), (np.zeros(2, np.float32), np.float32), (3.5, np.float32),
])
def test_dtype_inference_matches_torch(data, dtype):
    assert minitune.tensor(data).dtype == dtype


@pytest.mark.parametrize("bad", ["abc", {"a": 1}, [object()], np.array(["x"]), np.zeros(2, np.complex64)])
def test_unsupported_data_names_what_came(bad):
    with pytest.raises(TypeError, match="tensor|dtype"):
        minitune.tensor(bad)


def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        minitune.zeros(2, 3) + minitune.zeros(4)


def test_matmul_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        minitune.zeros(2, 3) @ minitune.zeros(4, 5)


def test_type_promotion_float32_with_int_stays_float32():
    x = minitune.ones(3) * minitune.arange(3)
    assert x.dtype == np.float32
    assert (minitune.ones(2, dtype=minitune.float64) + minitune.ones(2)).dtype == np.float64
    assert (minitune.arange(4) / 2).dtype == np.float32


def test_repr_like_torch():
    assert repr(minitune.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(minitune.tensor([1, 2])) == "tensor([1, 2])"
    x = minitune.tensor([1.0], requires_grad=True)
    assert repr(x) == "tensor([1.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert "dtype=minitune.float64" in repr(minitune.zeros(1, dtype=minitune.float64))


def test_item_numpy_and_factories():
    minitune.manual_seed(3)
    a = minitune.randn(2, 3)
    minitune.manual_seed(3)
    b = minitune.randn((2, 3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert minitune.zeros_like(a).shape == (2, 3) and minitune.arange(5).dtype == np.int64
    assert minitune.tensor([[4.0]]).item() == 4.0
    with pytest.raises(RuntimeError, match="detach"):
        minitune.ones(1, requires_grad=True).numpy()


def test_inplace_on_leaf_requiring_grad_refused_outside_no_grad():
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="in-place"):
        x.zero_()
    with minitune.no_grad():
        x.fill_(4.0)
    assert x.item() == 4.0


def test_max_with_dim_returns_values_and_indices():
    x = minitune.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]


def test_custom_function_with_ctx():
    class Cube(Function):
        """y = a³;   dL/da = 3a² g"""

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True,)
            return 3 * a * a * g

    x = leaf(2.0)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward0"
    y.backward()
    assert x.grad.item() == 12.0


class _Twice(Function):
    """y = 2x with a backward that declares its gradients new arrays (Function.fresh_gradients);
    ``returned`` records each array it hands back."""
    fresh_gradients = True
    returned = []

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        out = 2 * g
        _Twice.returned.append(out)
        return out


class _Same(Function):
    """y = x, backward returns g itself (as Add does): its gradients are not fresh."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def test_a_fresh_gradient_becomes_grad_without_a_copy_and_any_other_is_copied():
    _Twice.returned.clear()
    x = leaf(1.0, 2.0)
    _Twice.apply(x).sum().backward()
    assert x.grad.data is _Twice.returned[0]  # kept, as torch's AccumulateGrad steals a gradient
    a, b = leaf(1.0, 2.0), leaf(3.0, 4.0)
    g = np.array([5.0, 6.0])
    (_Same.apply(a) + b).backward(minitune.tensor(g))  # Add returns g for both: two copies
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, g) and not np.shares_memory(b.grad.data, g)
    a.grad.data += 1
    np.testing.assert_array_equal(b.grad.data, g)


@pytest.mark.parametrize("fresh_first", [True, False])
def test_gradients_are_summed_in_place_only_into_arrays_the_engine_owns(fresh_first):
    """dL/du = 2g (from _Twice) + g (from Add, the caller's array itself): the sum goes into the fresh
    array whichever arrives first; the caller's g and the arrays of non-fresh backwards are untouched."""
    x = leaf(1.0, -2.0, 3.0)
    u = x * 3
    y = _Twice.apply(u) + u if fresh_first else u + _Twice.apply(u)
    g = np.array([1.0, 10.0, 100.0])
    y.backward(minitune.tensor(g))
    np.testing.assert_array_equal(g, [1.0, 10.0, 100.0])
    np.testing.assert_array_equal(x.grad.data, 3 * (2 * g + g))
    v = x * 1  # three uses of v, none fresh: the second sum goes into the engine's own first sum
    w = _Same.apply(v)
    (v + w + v).backward(minitune.tensor(g))
    np.testing.assert_array_equal(g, [1.0, 10.0, 100.0])
    np.testing.assert_array_equal(x.grad.data, 3 * (2 * g + g) + 3 * g)


def test_relu_writes_its_gradient_into_an_upstream_array_only_the_engine_holds():
    import minitune.nn.functional as F
    x = leaf(-1.0, 2.0, -3.0, 4.0)
    g = minitune.tensor([1.0, 2.0, 3.0, 4.0], dtype=minitune.float64)
    F.relu(x * 1).backward(g)  # the caller's g: not overwritten
    np.testing.assert_array_equal(g.data, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, 0.0, 4.0])
    _Twice.returned.clear()
    x.grad = None
    _Twice.apply(F.relu(x * 1)).backward(g)  # _Twice's fresh 2g: ReLU writes into it
    assert len(_Twice.returned) == 1
    np.testing.assert_array_equal(_Twice.returned[0], [0.0, 4.0, 0.0, 8.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 4.0, 0.0, 8.0])
    np.testing.assert_array_equal(g.data, [1.0, 2.0, 3.0, 4.0])
