"""The differences from torch that issue 15 found, as one table of cases written once:
``tools/references/torch_client.py`` runs each with ``lib = torch`` and writes what torch gives
(``tests/reference/torch_client_<name>.npz``), and ``tests/test_torch_client.py`` runs the same
code with ``lib = minitune`` and compares.

A case is ``name: (inputs, fn)``: ``inputs(rng)`` builds the numpy inputs (float arrays become
tensors that require grad), ``fn(lib, *tensors)`` returns a tensor or a tuple of tensors.  Where
an output requires grad, the fixture also holds a random upstream gradient and torch's gradient
of every input.  Random numbers come from ``seed(name)``.
"""
import warnings
import zlib

import numpy as np

NAN, INF = np.nan, np.inf


def seed(name):
    return zlib.crc32(name.encode())


def _normal(*shapes, dtype=np.float64):
    return lambda rng: [rng.standard_normal(s).astype(dtype) for s in shapes]


def _setitem_mask(lib, a):
    y = a * 2
    y[y > 0] = 0  # in-place masking of a non-leaf: recorded in the graph (torch's CopySlices)
    return y * 3


def _setitem_value(lib, a, b):
    y = a * 2 + 1
    y[1:3] = b  # b's gradient is the one of the overwritten slice
    return y * y


def _grad_of_nonleaf(lib, a, b):
    y = a * b
    z = (y.exp() * a).sum()
    gy, gb = lib.autograd.grad(z, [y, b], retain_graph=True)
    (ga,) = lib.autograd.grad(z * 2, a, grad_outputs=lib.tensor(0.5, dtype=a.dtype))
    return gy, gb, ga


def _grad_allow_unused(lib, a, b):
    ga, gb = lib.autograd.grad((a ** 2).sum(), [a, b], allow_unused=True)
    return ga, lib.tensor(float(gb is None))


def _backward_inputs(lib, a, b):
    y = (a * b).tanh()
    y.sum().backward(inputs=[a])  # only a.grad is filled
    first = a.grad.clone()
    m = a * 3
    (m * b).sum().backward(inputs=[m, b])  # a non-leaf input gets .grad too
    return first, lib.tensor(float(a.grad is not None and bool((a.grad == first).all()))), b.grad.clone(), m.grad


def _implicit(fn):
    def run(lib, x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(lib, x)
    return run


def _conv_module(padding, padding_mode, kernel=3, dilation=1):
    def run(lib, x, w):
        conv = lib.nn.Conv2d(2, 3, kernel, padding=padding, padding_mode=padding_mode, dilation=dilation,
                             bias=False).double()
        with lib.no_grad():
            conv.weight.copy_(w)
        return conv(x)
    return run


def _masked_logits(rng):
    x = rng.standard_normal((4, 5))
    x[[0, 1, 1, 3], [1, 0, 4, 2]] = -INF  # masked classes, never the target
    return [x, np.array([0, 2, 3, 1])]


CASES = {
    # sigmoid in the stable two-branch form: relative precision for negative x
    "sigmoid_float32": (lambda rng: [np.linspace(-110, 30, 57).astype(np.float32)], lambda lib, x: lib.sigmoid(x)),
    "sigmoid_float64": (lambda rng: [np.linspace(-760, 40, 65)], lambda lib, x: x.sigmoid()),
    "log_softmax_extreme": (lambda rng: [np.array([[-1e4, 0.0, 1e4], [-800.0, -799.0, -900.0]])],
                            lambda lib, x: lib.nn.functional.log_softmax(x, dim=1)),
    # -inf logits (masking) and the all-zero-weights corner of cross_entropy
    "cross_entropy_masked": (_masked_logits, lambda lib, x, t: lib.nn.functional.cross_entropy(x, t)),
    "cross_entropy_masked_none": (_masked_logits,
                                  lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, reduction="none")),
    "cross_entropy_masked_smoothing": (_masked_logits, lambda lib, x, t: lib.nn.functional.cross_entropy(
        x, t, label_smoothing=0.1)),
    "nll_loss_masked": (_masked_logits,
                        lambda lib, x, t: lib.nn.functional.nll_loss(lib.nn.functional.log_softmax(x, 1), t)),
    "cross_entropy_zero_weights_smoothing": (
        lambda rng: [rng.standard_normal((3, 4)), np.array([0, 1, 0]), np.array([0.0, 0.0, 1.0, 2.0])],
        lambda lib, x, t, w: lib.nn.functional.cross_entropy(x, t, weight=w.detach(), label_smoothing=0.2)),
    # gradients at NaN
    "relu_nan": (lambda rng: [np.array([NAN, 1.0, -1.0, 0.0, -NAN])], lambda lib, x: lib.relu(x)),
    "relu_functional_nan": (lambda rng: [np.array([[NAN, 2.0], [-3.0, 0.0]])], lambda lib, x: lib.nn.functional.relu(x)),
    "maximum_nan": (lambda rng: [np.array([NAN, 0.0, 1.0, NAN]), np.array([0.0, NAN, 1.0, NAN])],
                    lambda lib, a, b: lib.maximum(a, b)),
    "minimum_nan": (lambda rng: [np.array([NAN, 0.0, 1.0, 2.0]), np.array([0.0, NAN, 1.0, -1.0])],
                    lambda lib, a, b: lib.minimum(a, b)),
    # pow's gradient masks at a = 0 and b = 0
    "pow_at_zero": (lambda rng: [np.array([0.0, 0.0, 0.0, 0.0, 2.0, 0.0]), np.array([-1.0, 0.0, 0.5, 2.0, 0.0, -2.5])],
                    lambda lib, a, b: a ** b),
    "pow_zero_scalar_exponent": (lambda rng: [np.array([0.0, 1.5, 0.0])], lambda lib, a: a ** -1.0),
    # where with numbers, binary max/min, in-place masking of a non-leaf, implicit softmax dim
    "where_two_floats": (lambda rng: [np.array([True, False, True])], lambda lib, c: lib.where(c, 1.0, 0.0)),
    "where_float_int": (lambda rng: [np.array([[True, False], [False, True]])], lambda lib, c: lib.where(c, 2.5, 0)),
    "where_two_ints": (lambda rng: [np.array([True, False])], lambda lib, c: lib.where(c, 3, -1)),
    "where_tensor_scalar": (lambda rng: [np.array([True, False, True]), rng.standard_normal(3)],
                            lambda lib, c, x: lib.where(c, x, 0.0)),
    "max_binary": (lambda rng: [np.array([1.0, 5.0, 2.0]), np.array([3.0, 2.0, 2.0])], lambda lib, a, b: lib.max(a, b)),
    "min_binary": (lambda rng: [np.array([1.0, 5.0, 2.0]), np.array([3.0, 2.0, 2.0])], lambda lib, a, b: lib.min(a, b)),
    "min_dim": (_normal((3, 4)), lambda lib, x: tuple(x.min(1))),
    "max_dim_keepdim": (_normal((3, 4)), lambda lib, x: tuple(lib.max(x, 0, keepdim=True))),
    "setitem_nonleaf_mask": (_normal((3, 4)), _setitem_mask),
    "setitem_value_grad": (_normal((4, 3), (3,)), _setitem_value),
    "softmax_implicit_1d": (_normal((5,)), _implicit(lambda lib, x: lib.nn.functional.softmax(x))),
    "softmax_implicit_2d": (_normal((3, 4)), _implicit(lambda lib, x: lib.nn.functional.softmax(x))),
    "softmax_implicit_3d": (_normal((2, 3, 4)), _implicit(lambda lib, x: lib.nn.functional.softmax(x))),
    "softmax_implicit_4d": (_normal((2, 3, 2, 2)), _implicit(lambda lib, x: lib.nn.functional.softmax(x))),
    "log_softmax_implicit_3d": (_normal((2, 3, 4)), _implicit(lambda lib, x: lib.nn.functional.log_softmax(x))),
    # autograd.grad and backward(inputs=)
    "autograd_grad": (_normal((3,), (3,)), _grad_of_nonleaf),
    "autograd_grad_allow_unused": (_normal((2,), (2,)), _grad_allow_unused),
    "backward_inputs": (_normal((4,), (4,)), _backward_inputs),
    # reductions over dim=()
    "sum_dim_empty": (_normal((2, 3)), lambda lib, x: x.sum(dim=())),
    "mean_dim_empty": (_normal((2, 3)), lambda lib, x: lib.mean(x, dim=())),
    "amax_dim_empty": (lambda rng: [np.array([[1.0, 3.0], [3.0, 0.0]])], lambda lib, x: x.amax(dim=())),
    # clamp with tensor bounds (lo > hi in some places)
    "clamp_tensor_bounds": (_normal((3, 4), (3, 4), (4,)), lambda lib, x, lo, hi: x.clamp(min=lo, max=hi)),
    # pooling on a broadcast (expand-ed) input
    "avg_pool_expanded": (_normal((1, 2, 1, 6)),
                          lambda lib, x: lib.nn.functional.avg_pool2d(x.expand(2, 2, 6, 6), 3, 2, 1)),
    "max_pool_expanded": (_normal((1, 2, 6, 1)),
                          lambda lib, x: lib.nn.functional.max_pool2d(x.expand(2, 2, 6, 5), 2, ceil_mode=True)),
    # Conv2d's padding='same'/'valid' and padding_mode
    "conv_same": (_normal((2, 2, 6, 7), (3, 2, 3, 3)), _conv_module("same", "zeros")),
    "conv_same_even_kernel": (_normal((1, 2, 6, 7), (3, 2, 4, 4)), _conv_module("same", "zeros", kernel=4)),
    "conv_same_dilated": (_normal((1, 2, 8, 7), (3, 2, 2, 3)), _conv_module("same", "zeros", kernel=(2, 3), dilation=2)),
    "conv_valid": (_normal((1, 2, 6, 7), (3, 2, 3, 3)), _conv_module("valid", "zeros")),
    "conv_reflect": (_normal((1, 2, 6, 7), (3, 2, 3, 3)), _conv_module(2, "reflect")),
    "conv_replicate": (_normal((1, 2, 6, 7), (3, 2, 3, 3)), _conv_module((1, 2), "replicate")),
    "conv_circular": (_normal((2, 2, 5, 6), (3, 2, 3, 3)), _conv_module(1, "circular")),
    "conv_same_reflect": (_normal((1, 2, 6, 7), (3, 2, 4, 4)), _conv_module("same", "reflect", kernel=4)),
    # F.conv2d's string padding (the extra row/column of an even 'same' goes right/bottom, as torch)
    "functional_conv_same_even_kernel": (_normal((1, 2, 6, 7), (3, 2, 4, 4)),
                                         lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding="same")),
    "functional_conv_same_dilated": (_normal((2, 2, 8, 7), (3, 2, 3, 3)),
                                     lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding="same", dilation=2)),
    "functional_conv_valid": (_normal((1, 2, 6, 7), (3, 2, 3, 3)),
                              lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding="valid")),
    "pad_constant_value_and_crop": (_normal((2, 3, 4)), lambda lib, x: lib.nn.functional.pad(x, (1, -1, 2, 0), value=0.5)),
    "pad_reflect_3d": (_normal((2, 5, 4)), lambda lib, x: lib.nn.functional.pad(x, (3, 2), mode="reflect")),
}

# cases that are smooth at their inputs, with the inputs gradcheck perturbs (a Conv2d case copies its
# weight into the layer under no_grad, so only x is differentiated there)
SMOOTH = {"setitem_value_grad": [0, 1], "clamp_tensor_bounds": [0, 1, 2], "avg_pool_expanded": [0],
          "max_pool_expanded": [0], "conv_same_even_kernel": [0], "conv_reflect": [0], "conv_circular": [0],
          "conv_same_reflect": [0], "pad_constant_value_and_crop": [0],
          "functional_conv_same_even_kernel": [0, 1], "functional_conv_same_dilated": [0, 1], "pad_reflect_3d": [0],
          "sigmoid_float64": [0], "cross_entropy_masked_none": [0]}


def run_case(lib, name, as_tensor):
    """(inputs, tensors, outputs) of case ``name`` run with ``lib``; ``as_tensor(array, requires_grad)``
    makes lib's tensor (float inputs require grad)."""
    build, fn = CASES[name]
    inputs = build(np.random.default_rng(seed(name)))
    tensors = [as_tensor(a, a.dtype.kind == "f") for a in inputs]
    out = fn(lib, *tensors)
    return inputs, tensors, (out if isinstance(out, tuple) else (out,))
