"""A restricted unpickler for PyTorch checkpoints: it rebuilds tensors as numpy arrays and runs no foreign code.

A pickle is a small program: ``GLOBAL module name`` fetches any importable object and ``REDUCE``
calls it, so ``pickle.load`` of a hostile ``.pth`` file can run ``os.system``.  This unpickler
overrides ``find_class`` with an **exact allowlist** and never falls back to the default lookup:

=====================================================  =============================================
global in the file                                     what it becomes here
=====================================================  =============================================
``collections.OrderedDict``                            an empty ``OrderedDict`` (called with no
                                                       arguments, as torch pickles it; a ``BUILD``
                                                       with ``{'_metadata': …}`` sets an attribute)
``torch._utils._rebuild_tensor_v2`` / ``_rebuild_      :func:`rebuild_tensor` below: a *recipe*
tensor`` / ``_rebuild_parameter`` / ``_rebuild_        ``TensorRecipe(storage, offset, size, stride)``
parameter_with_state``                                 that the reader turns into an array
``torch.FloatStorage`` … ``torch.BoolStorage``         a :class:`StorageType` marker with the dtype
``torch.FloatTensor`` … (tar layout only)              a :class:`TensorType` marker (ignored)
``torch.Size``                                         a ``tuple`` of at most 64 ints
=====================================================  =============================================

Anything else raises :class:`UnsafePickleError` naming the global, before it is imported or
called.  torch's own ``weights_only`` unpickler allows a few more (``torch.device``,
``_codecs.encode``, ``builtins.set`` …); a plain state_dict or training checkpoint needs none.
The allowed callables are handed out as :class:`AllowedCall` objects that no pickle opcode can
modify, and ``BUILD`` may only set plain attributes of an ``OrderedDict`` instance (as torch's
``weights_only`` unpickler, which builds only tensors, parameters and OrderedDicts).

A tensor in the file is ``(storage, storage_offset, size, stride)`` with offset and strides in
**elements**, each an int in [0, 2⁴⁸); :func:`materialize_tensor` checks the view against the
storage's bounds,
``offset + Σ (size_i − 1)·stride_i < len(storage)``, then copies it out with ``as_strided``.

bfloat16 has no numpy dtype: its 16 bits are the upper half of a float32, so
``float32 = (uint16 as uint32) << 16`` — exact, every bfloat16 is a float32.

Hostile but "valid" pickles are bounded too: the pure-Python unpickler is used (its memo is a
dict, so ``LONG_BINPUT 2³²`` allocates nothing); ``BYTEARRAY8`` (which allocates its declared
length before reading) is refused; a dict key or set member is hashed only after
:func:`check_hashable` has counted its nodes (``(t, t)`` nested 60 deep is 200 bytes of pickle
and 2⁶⁰ steps of ``hash``); and error messages format untrusted values with :func:`describe`,
which visits a bounded number of nodes.
"""
import collections
import math
import pickle
import struct

import numpy as np

from .untrusted import CheckpointError, check_hashable, describe, exception_text  # noqa: F401 (re-exported)

# torch storage class name -> (numpy dtype read from the file, element size in bytes)
STORAGE_DTYPES = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),  # converted to float32 on the way out
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),  # torch.int8
    "ByteStorage": np.dtype("u1"),  # torch.uint8
    "BoolStorage": np.dtype("?"),
    "ComplexFloatStorage": np.dtype("<c8"),
    "ComplexDoubleStorage": np.dtype("<c16"),
}
TENSOR_TYPES = {name.replace("Storage", "Tensor") for name in STORAGE_DTYPES}
MAX_NDIM = 64
MAX_INDEX = 1 << 48  # sizes, strides, offsets and element counts stay below this (a real tensor is far smaller)


class UnsafePickleError(pickle.UnpicklingError, CheckpointError):
    """The pickle asked for a global outside the allowlist; nothing was imported or run."""


class _Frozen:
    """A pickle ``BUILD`` on a marker must not rewrite it after its checks (``BUILD`` calls ``__setstate__``)."""

    __slots__ = ()

    def __setstate__(self, state):
        raise UnsafePickleError(f"a pickle BUILD tried to modify {type(self).__name__}; refusing to load it")


class StorageType(_Frozen):
    """Stands in for ``torch.FloatStorage`` & co.: only its name and numpy dtype matter."""

    __slots__ = ("name", "dtype", "is_bfloat16")
    safe_repr = True  # describe() may call repr: it is short and fixed

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]
        self.is_bfloat16 = name == "BFloat16Storage"

    def __repr__(self):
        return f"torch.{self.name}"


class TensorType(_Frozen):
    """Stands in for ``torch.FloatTensor`` & co. (the tar layout records the original tensor type)."""

    __slots__ = ("name",)
    safe_repr = True  # describe() may call repr: it is short and fixed

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


class TensorRecipe(_Frozen):
    """``(storage, storage_offset, size, stride)`` as read from the pickle; made into an array later,
    because the legacy layout stores the raw bytes *after* the pickle that refers to them."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


class StorageRef:
    """A storage named by a persistent id: ``key`` into the reader's storages, optionally the window
    ``[start, start + length)`` of it (legacy views)."""

    __slots__ = ("key", "start", "length")

    def __init__(self, key, start=0, length=None):
        self.key, self.start, self.length = key, start, length


class AllowedCall(_Frozen):
    """An allowlisted global as the pickle sees it: callable, and immutable (no ``__dict__``, no
    ``__setstate__``, no ``__setattr__``), so a ``BUILD`` or ``SETITEM`` cannot change what it does."""

    __slots__ = ("qualname", "_func")
    safe_repr = True  # describe() may call repr: it is short and fixed

    def __init__(self, qualname, func):
        object.__setattr__(self, "qualname", qualname)
        object.__setattr__(self, "_func", func)

    def __setattr__(self, name, value):
        raise UnsafePickleError(f"a pickle tried to set {name!r:.40} on {self.qualname}; refusing to load it")

    __delattr__ = __setattr__

    def __call__(self, *args):
        return self._func(*args)

    def __repr__(self):
        return self.qualname


# -- tensors ------------------------------------------------------------------------------------------
def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)) or len(value) > MAX_NDIM:
        raise ValueError(f"tensor {what} must be a tuple of at most {MAX_NDIM} ints, got {describe(value)}")
    if not all(type(v) is int and 0 <= v < MAX_INDEX for v in value):
        raise ValueError(f"tensor {what} must hold non-negative ints below 2**48, got {describe(value)}")
    return tuple(value)


def rebuild_tensor(storage, storage_offset, size, stride, *ignored):
    """Our ``torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    backward_hooks, metadata=None)`` (and ``_rebuild_tensor``): records the view; requires_grad and
    hooks are dropped (a state_dict holds plain tensors)."""
    if type(storage_offset) is not int or not 0 <= storage_offset < MAX_INDEX:
        raise ValueError(f"tensor storage_offset must be a non-negative int below 2**48, "
                         f"got {describe(storage_offset)}")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(size) != len(stride):
        raise ValueError(f"tensor size {size} and stride {stride} differ in length")
    if math.prod(max(s, 1) for s in size) >= MAX_INDEX:
        raise ValueError(f"tensor size {size} has 2**48 elements or more")
    return TensorRecipe(storage, storage_offset, size, stride)


def rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    """``torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)``: a Parameter is its data."""
    return data


def torch_size(sizes=()):
    """``torch.Size(sizes)``: a tuple of at most ``MAX_NDIM`` non-negative ints."""
    return _int_tuple(sizes, "torch.Size")


def tensor_nbytes(recipe, storage_itemsize, is_bfloat16=False):
    """Bytes of the array :func:`materialize_tensor` makes (bfloat16 comes out as 4-byte float32)."""
    return math.prod(recipe.size) * (4 if is_bfloat16 else storage_itemsize)


def materialize_tensor(recipe, storage_array, is_bfloat16=False):
    """The array that ``recipe`` describes inside ``storage_array`` (1-D, native order), copied.

    Bounds: the last element read is ``offset + Σ (size_i − 1)·stride_i``; it must be inside the storage."""
    n = storage_array.shape[0]
    rebuild_tensor(None, recipe.offset, recipe.size, recipe.stride)  # re-check: the values came from a file
    numel = math.prod(recipe.size)
    if numel:
        last = recipe.offset + sum((s - 1) * st for s, st in zip(recipe.size, recipe.stride))
        if last >= n:
            raise ValueError(f"tensor view (offset {recipe.offset}, size {recipe.size}, stride {recipe.stride}) "
                             f"reads element {last} of a storage of {n} elements")
        strides = [st * storage_array.itemsize if s > 1 else 0 for s, st in zip(recipe.size, recipe.stride)]
        view = np.lib.stride_tricks.as_strided(storage_array[recipe.offset:], shape=recipe.size, strides=strides,
                                               writeable=False)
        out = np.array(view, copy=True, order="C")
    else:
        out = np.empty(recipe.size, dtype=storage_array.dtype)
    if is_bfloat16:
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return out


def _ordered_dict(*args):
    """``collections.OrderedDict()`` as torch pickles it: no arguments, the items follow as ``SETITEMS``
    (an argument would let a few bytes of pickle copy a large dict again and again)."""
    if args:
        raise ValueError("collections.OrderedDict is called with arguments; torch pickles it empty")
    return collections.OrderedDict()


ALLOWED_FUNCTIONS = {
    ("collections", "OrderedDict"): AllowedCall("collections.OrderedDict", _ordered_dict),
    ("torch._utils", "_rebuild_tensor_v2"): AllowedCall("torch._utils._rebuild_tensor_v2", rebuild_tensor),
    ("torch._utils", "_rebuild_tensor"): AllowedCall("torch._utils._rebuild_tensor", rebuild_tensor),
    ("torch._utils", "_rebuild_parameter"): AllowedCall("torch._utils._rebuild_parameter", rebuild_parameter),
    ("torch._utils", "_rebuild_parameter_with_state"): AllowedCall("torch._utils._rebuild_parameter_with_state",
                                                                   rebuild_parameter),
    ("torch", "Size"): AllowedCall("torch.Size", torch_size),
}
_dispatch = pickle._Unpickler.dispatch


class RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python ``pickle._Unpickler`` whose ``find_class`` knows only the allowlist above,
    and whose container opcodes check their target and keys before they touch them.

    ``persistent_load`` is given by the caller (each file layout resolves storages its own way).
    ``source`` names the file in error messages."""

    dispatch = dict(_dispatch)

    def __init__(self, file, persistent_load=None, source="<checkpoint>"):
        super().__init__(file, encoding="utf-8")  # torch.load's default encoding
        self._persistent_load = persistent_load
        self.source = source

    def find_class(self, module, name):
        key = (module, name)
        if key in ALLOWED_FUNCTIONS:
            return ALLOWED_FUNCTIONS[key]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        if module == "torch" and name in TENSOR_TYPES:
            return TensorType(name)
        raise UnsafePickleError(f"{self.source}: global {module[:60]}.{name[:60]} is not "
                                f"allowed in a checkpoint (only tensors, storages and OrderedDict are); refusing "
                                f"to load it")

    def persistent_load(self, pid):
        if self._persistent_load is None:
            raise UnsafePickleError(f"{self.source}: unexpected persistent id {describe(pid)} in this pickle")
        return self._persistent_load(pid)

    def _target(self, kind, opcode):
        target = self.stack[-1]
        if not isinstance(target, kind):
            raise CheckpointError(f"{self.source}: pickle opcode {opcode} applied to a {type(target).__name__}")
        return target

    def _keys(self, keys):
        for key in keys:
            check_hashable(key, self.source)
        return keys

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not isinstance(func, AllowedCall) or type(args) is not tuple:
            raise CheckpointError(f"{self.source}: pickle REDUCE calls a {type(func).__name__} with a "
                                  f"{type(args).__name__}; only allowed functions are called, with a tuple")
        self.stack[-1] = func(*args)
    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is not collections.OrderedDict or type(state) is not dict or \
                not all(type(k) is str and not k.startswith("__") for k in state):
            target = inst.qualname if isinstance(inst, AllowedCall) else f"a {type(inst).__name__}"
            raise UnsafePickleError(f"{self.source}: a pickle BUILD on {target} is not allowed "
                                    "(only plain attributes of an OrderedDict, such as _metadata)")
        for key, value in state.items():
            setattr(inst, key, value)
    dispatch[pickle.BUILD[0]] = load_build

    def load_dict(self):
        items = self.pop_mark()
        self._keys(items[0::2])
        self.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})
    dispatch[pickle.DICT[0]] = load_dict

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._target(dict, "SETITEM")[self._keys([key])[0]] = value
    dispatch[pickle.SETITEM[0]] = load_setitem

    def load_setitems(self):
        items = self.pop_mark()
        target = self._target(dict, "SETITEMS")
        self._keys(items[0::2])
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]
    dispatch[pickle.SETITEMS[0]] = load_setitems

    def load_append(self):
        value = self.stack.pop()
        self._target(list, "APPEND").append(value)
    dispatch[pickle.APPEND[0]] = load_append

    def load_appends(self):
        items = self.pop_mark()
        self._target(list, "APPENDS").extend(items)
    dispatch[pickle.APPENDS[0]] = load_appends

    def load_additems(self):
        items = self.pop_mark()
        self._target(set, "ADDITEMS").update(self._keys(items))
    dispatch[pickle.ADDITEMS[0]] = load_additems

    def load_frozenset(self):
        self.append(frozenset(self._keys(self.pop_mark())))
    dispatch[pickle.FROZENSET[0]] = load_frozenset

    def load_unsupported(self):
        raise CheckpointError(f"{self.source}: pickle protocol-5 buffers are not used by torch.save")
    for _opcode in (pickle.BYTEARRAY8, pickle.NEXT_BUFFER, pickle.READONLY_BUFFER):
        dispatch[_opcode[0]] = load_unsupported
    del _opcode


def load_pickle(file, source="<checkpoint>", persistent_load=None):
    """One pickle from ``file`` with the restricted unpickler; malformed data → :class:`CheckpointError`."""
    try:
        return RestrictedUnpickler(file, persistent_load, source).load()
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError, AttributeError, ValueError,
            OverflowError, struct.error) as exc:
        raise CheckpointError(f"{source}: corrupt or truncated pickle ({exception_text(exc)})") from None
