"""``Tensor``: an ``np.ndarray`` plus what reverse-mode autograd needs.

``data`` is the array (float32 by default, float64 allowed, int64 for labels, bool for
masks); ``grad`` is a Tensor of the same shape once a backward pass reached this leaf;
``grad_fn`` is the ``Node`` that produced a non-leaf tensor.  Every differentiable method
is one ``Function`` from ``ops/``, so the math lives there, next to its gradient.

This file holds what a tensor *is* (attributes, Python protocols, autograd, conversion,
in-place writes, repr); its methods by concept are in ``tensor_arithmetic.py`` (operators,
comparisons, elementwise functions), ``tensor_reduction.py`` (sum, mean, max, min, …) and
``tensor_shape.py`` (reshape, permute, indexing, …).

``Tensor.data`` is the numpy array itself, not a Tensor as in torch (a teaching choice: the
array under the autograd is one attribute away).  Torch idioms still work: ``preds == labels.data``,
``p.data -= lr * p.grad.data``, ``Tensor(np_array)``.
"""
import numbers
import sys

import numpy as np

from .devices import CPU, check_device
from .dtypes import _TORCH_NAMES, bool_, check_dtype, float32, float64, int32, int64, to_array
from .engine import run_backward
from .grad_mode import is_grad_enabled
from .ops.elementwise import Cast, Clone
from .ops.indexing import SetItem
from .tensor_arithmetic import ArithmeticMethods
from .tensor_reduction import ReductionMethods
from .tensor_shape import ShapeMethods, index_arrays


def _constructor_array(args, dtype):
    """torch.Tensor's constructor: ``Tensor(2, 3)`` is an uninitialized 2×3 float32 tensor,
    ``Tensor([0, 0, 0])`` a float32 copy of the data; an ``np.ndarray`` keeps its dtype (and memory)."""
    if not args:
        return np.empty((0,), dtype=dtype or float32)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args):
        return np.empty(tuple(int(a) for a in args), dtype=dtype or float32)
    if len(args) > 1:
        raise TypeError(f"Tensor() takes one data argument or integer sizes, got {len(args)} arguments")
    data = args[0]
    if isinstance(data, (list, tuple)) or (isinstance(data, numbers.Number) and not isinstance(data, np.generic)):
        if isinstance(data, numbers.Number):
            raise TypeError(f"Tensor(): data must be a sequence (got {type(data).__name__}); "
                            "use minitune.tensor(x) for a 0-d tensor")
        return to_array(data, dtype or float32)
    return to_array(data, dtype)


class Tensor(ArithmeticMethods, ReductionMethods, ShapeMethods):
    """An n-dimensional array that can record the operations applied to it."""

    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators

    def __init__(self, *data, dtype=None, requires_grad=False):
        self.data = _constructor_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array):
        t = cls.__new__(cls)
        t.data = np.asarray(array)
        t.grad = None
        t.grad_fn = None
        t.requires_grad = False
        return t

    # ---- attributes -------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self):
        return False

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return int(self.data.size)

    def element_size(self):
        return self.data.itemsize

    # ---- Python protocols: len, numbers, bool, index, format, numpy -----------------------------
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to a Python scalar")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        """``class_names[pred]``: an integer tensor of one element is a list index, as in torch."""
        if self.data.size != 1 or self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"({self.data.size} values; use .any() or .all())")
        return bool(self.data.reshape(()).item())

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor as its number; other tensors only with an empty spec."""
        if self.ndim == 0:
            return self.item().__format__(spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    # ---- autograd ---------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating point tensors can require gradients, this one is {self.data.dtype}")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retained = self
        elif not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        return self

    def detach(self):
        """The same data, cut from the graph (shares memory, as in torch)."""
        return Tensor._wrap(self.data)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate dL/dleaf into every leaf's ``.grad``, with L = this tensor (or ⟨gradient, this⟩).

        ``inputs=[a, b]``: only ``a.grad`` and ``b.grad`` receive the gradient (leaves or not)."""
        from .differentiation import check_create_graph, check_inputs, output_gradient  # it imports Tensor (a cycle)
        check_create_graph(create_graph)
        g = output_gradient(self, gradient, "backward")
        if inputs is not None:
            inputs = check_inputs(inputs, "backward")
        run_backward([self], [g], retain_graph=bool(retain_graph), inputs=inputs)

    # ---- conversion and device ----------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """``to(dtype)``, ``to(device)``, ``to(other_tensor)``, ``to(device=…, dtype=…, non_blocking=…)``.

        Every device other than the CPU raises ``RuntimeError``; ``non_blocking`` is accepted and ignored."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype if dtype is None else dtype
            elif isinstance(arg, str) and arg.partition(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta"):
                device = arg
            elif dtype is None:
                dtype = arg
            else:
                raise TypeError(f"to() received the dtype twice ({dtype!r} and {arg!r})")
        check_device(device, "Tensor.to")
        if dtype is None:
            return self.clone() if copy else self
        dtype = check_dtype(dtype)
        if dtype == self.data.dtype:
            return self.clone() if copy else self
        if self.requires_grad and dtype.kind == "f":
            return Cast.apply(self, dtype)
        return Tensor._wrap(self.data.astype(dtype))

    def cpu(self):
        return self

    def cuda(self, device=None):
        check_device("cuda" if device is None else device, "Tensor.cuda")

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def bool(self):
        return self.to(bool_)

    def type(self, dtype):
        return self.to(dtype)

    def clone(self):
        return Clone.apply(self)

    def contiguous(self):
        return self

    # ---- in-place writes ----------------------------------------------------------------------
    def _check_inplace(self):
        """The one in-place guard, as torch's: a leaf that requires grad may be written only under no_grad."""
        if self.requires_grad and self.is_leaf and is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")

    def _owns_data(self):
        """True when nothing but this tensor refers to ``data`` nor to any array ``data`` is a view of:
        no saved array of a recorded op, no view, no other tensor.  An in-place op under autograd may
        then overwrite ``data`` without changing a value some backward will read.

        Read from CPython's reference counts, against the counts of a tensor made here that owns its
        array (``_OWNED_COUNTS``): a reference the interpreter keeps on its own (a loop variable, say)
        only makes the answer False, and the op then writes a new array — slower, never wrong."""
        counts = _reference_counts(self)
        return (counts is not None and counts[0] <= _OWNED_COUNTS[0]
                and all(c <= _OWNED_COUNTS[1] for c in counts[1:]))

    def _apply_in_place(self, function, *args):
        """Record ``function(self, *args)`` as an in-place op, as torch does: this tensor takes the
        result's ``data`` and ``grad_fn``, so its history moves one node on, and the new node reads a
        stand-in for the value from before (a tensor with the same array and ``grad_fn``, so that no
        cycle tensor → node → tensor keeps the arrays alive until the garbage collector runs).
        A ``retain_grad()`` moves along too: ``.grad`` is then dL/d(the new value), as in torch."""
        self._check_inplace()
        before = Tensor._wrap(self.data)
        before.requires_grad, before.grad_fn = self.requires_grad, self.grad_fn
        out = function.apply(before, *args)
        retained = self.grad_fn is not None and self.grad_fn.retained is self
        if retained:
            self.grad_fn.retained = None
        self.data, self.grad_fn, self.requires_grad = out.data, out.grad_fn, out.requires_grad
        if retained:  # self had a graph, so out was recorded: a new grad_fn
            self.grad_fn.retained = self
        return self

    def _write(self, idx, value):
        """``self[idx] = value``.  Recorded in the graph when a gradient must flow through it (this
        tensor is a non-leaf that requires grad, or ``value`` requires grad): the write then makes
        a new array and moves this tensor's ``grad_fn`` to a ``SetItem`` node, as torch's
        ``CopySlices``; otherwise it writes into ``data`` in place (views see the change)."""
        self._check_inplace()
        value_grad = isinstance(value, Tensor) and value.requires_grad
        if is_grad_enabled() and (self.requires_grad or value_grad):
            if isinstance(value, Tensor) and value.dtype != self.dtype:
                value = value.to(self.dtype)
            self._apply_in_place(SetItem, idx, value)
        else:
            self.data[idx] = value.data if isinstance(value, Tensor) else value
        return self

    def __setitem__(self, idx, value):
        self._write(index_arrays(idx), value)

    def zero_(self):
        return self._write(Ellipsis, 0)

    def fill_(self, value):
        return self._write(Ellipsis, value)

    def copy_(self, src):
        if not isinstance(src, Tensor):
            src = np.broadcast_to(np.asarray(src), self.data.shape)
        return self._write(Ellipsis, src)

    def __repr__(self):
        d = self.data
        integral = d.dtype.kind == "f" and (d.size == 0 or bool(np.all(np.isfinite(d) & (d == np.round(d)))))
        body = np.array2string(d, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec" if d.dtype.kind != "f" or integral else "fixed")
        extras = []
        if self.data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=minitune.{_TORCH_NAMES[self.data.dtype]}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _reference_counts(tensor):
    """sys.getrefcount of ``tensor.data`` and of each array it views (its ``base`` chain), or None
    when the chain ends in something other than an array (a buffer, a memory map) or is read-only."""
    a = tensor.data
    if not isinstance(a, np.ndarray) or not a.flags.writeable:
        return None
    counts = [sys.getrefcount(a)]
    b = a.base
    while b is not None:
        if not isinstance(b, np.ndarray):
            return None
        counts.append(sys.getrefcount(b))
        b = b.base
    return counts


# The counts of a tensor whose array (a view of a fresh array) nothing else refers to.
_OWNED_COUNTS = _reference_counts(Tensor._wrap(np.empty(2).reshape(1, 2)))
