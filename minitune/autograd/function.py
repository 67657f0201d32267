"""``Function``: one differentiable operation, a forward and a backward on numpy arrays.

A subclass writes two static methods (an example that is not one of minitune's ops)::

    class Cube(Function):
        '''y = x³;   dL/dx = g · 3x²'''

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

``Cube.apply(x)`` unwraps tensors into arrays, runs ``forward``, wraps the result in a
``Tensor`` and, when any input requires grad and grad mode is on, records a ``Node`` that
links the result to its inputs.  ``backward`` receives the upstream gradient g = dL/dy and
returns one gradient per ``forward`` argument (``None`` for arguments that are not tensors
or need no gradient).  Gradients that a broadcasting op returns in the broadcast shape are
reduced to each input's shape by the engine with ``sum_to``.
"""
from .grad_mode import is_grad_enabled


class Context:
    """What ``forward`` leaves for ``backward``: saved arrays and any other attributes."""

    may_overwrite_grad = False  # set by the engine for each backward call (Function.fresh_gradients)

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._freed = False

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to use saved arrays after they "
                "were freed). Call .backward(retain_graph=True) the first time if you need to backward twice."
            )
        return self._saved

    def free(self):
        self._saved = ()
        self._freed = True
        # Arrays kept as plain attributes are freed as well, except the bookkeeping above.
        for key in list(vars(self)):
            if key not in ("needs_input_grad", "_saved", "_freed"):
                delattr(self, key)


class Node:
    """A recorded application of a Function: the backward half of the graph.

    ``inputs`` holds the input tensors (``None`` for non-tensor arguments) and ``edges`` the
    node that produced each one when this node was recorded (``None`` for a leaf), so the
    engine routes each returned gradient to that node or, for a leaf, to its ``.grad``.  The
    edge is kept apart from the tensor because an in-place write (``y[mask] = 0``) gives the
    tensor a new ``grad_fn`` later, while this node used the value from before the write.
    """

    __slots__ = ("function", "ctx", "inputs", "edges", "retained", "__weakref__")

    def __init__(self, function, ctx, inputs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs
        self.edges = [None if t is None else t.grad_fn for t in inputs]
        self.retained = None  # the output tensor, when retain_grad() was called on it

    def name(self):
        return f"{self.function.__name__}Backward0"

    def __repr__(self):
        return f"<{self.name()}>"


class Function:
    """Base class of every differentiable operation; see the module docstring.

    State for ``backward``, one convention in every op: **arrays** that ``backward`` needs (inputs,
    the output, masks, arg-max indices, any array computed in ``forward``) go through
    ``ctx.save_for_backward(...)`` and come back, in the same order, from ``ctx.saved_tensors``;
    everything else (shapes, axes, flags, dtypes, the index or arguments as given) is a plain
    ``ctx`` attribute.  Saved arrays are freed after the backward pass (unless
    ``retain_graph=True``) and a second backward through the node raises ``RuntimeError``.
    """

    # True when nothing else refers to any array ``backward`` returns (not a saved array, not g unless
    # ``ctx.may_overwrite_grad``, not a view of either): the engine then keeps it as a leaf's ``.grad`` without a
    # copy and adds other gradients into it in place.  Declared by Conv2d, BatchNorm, Linear and
    # ReLU, whose kernels allocate their results (a ResNet-18 step copies 47 MB of weight gradients less).
    # The engine's side of the same contract: ``ctx.may_overwrite_grad`` is True in ``backward`` when
    # the upstream g is an array only the engine refers to (a fresh gradient or a sum it made), so
    # backward may write its result into g (ReLU does: no new array for dL/dx).
    fresh_gradients = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from .tensor import Tensor  # here, not at the top: tensor.py imports the ops, which import Function

        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = is_grad_enabled() and any(needs)
        ctx = Context(needs if record else (False,) * len(args))
        out = cls.forward(ctx, *arrays, **kwargs)
        result = Tensor._wrap(out)
        if record:
            result.requires_grad = True
            result.grad_fn = Node(cls, ctx, [a if isinstance(a, Tensor) and a.requires_grad else None for a in args])
        return result
