"""A restricted unpickler for PyTorch checkpoints: it rebuilds tensors as numpy arrays and runs no foreign code.

A pickle is a small program: ``GLOBAL module name`` fetches any importable object and ``REDUCE``
calls it, so ``pickle.load`` of a hostile ``.pth`` file can run ``os.system``.  This unpickler
overrides ``find_class`` with an **exact allowlist** and never falls back to the default lookup:

=====================================================  =============================================
global in the file                                     what it becomes here
=====================================================  =============================================
``collections.OrderedDict``                            the real class (a state_dict container;
                                                       a ``BUILD`` with ``{'_metadata': …}`` sets
                                                       an attribute, as in torch)
``torch._utils._rebuild_tensor_v2`` / ``_rebuild_      :func:`rebuild_tensor` below: a *recipe*
tensor`` / ``_rebuild_parameter`` / ``_rebuild_        ``TensorRecipe(storage, offset, size, stride)``
parameter_with_state``                                 that the reader turns into an array
``torch.FloatStorage`` … ``torch.BoolStorage``         a :class:`StorageType` marker with the dtype
``torch.FloatTensor`` … (tar layout only)              a :class:`TensorType` marker (ignored)
``torch.Size``                                         ``tuple``
=====================================================  =============================================

Anything else raises :class:`UnsafePickleError` naming the global, before it is imported or
called.  torch's own ``weights_only`` unpickler allows a few more (``torch.device``,
``_codecs.encode``, ``builtins.set`` …); a plain state_dict or training checkpoint needs none.

A tensor in the file is ``(storage, storage_offset, size, stride)`` with offset and strides in
**elements**; :func:`materialize_tensor` checks the view against the storage's bounds,
``offset + Σ (size_i − 1)·stride_i < len(storage)``, then copies it out with ``as_strided``.
bfloat16 has no numpy dtype: its 16 bits are the upper half of a float32, so
``float32 = (uint16 as uint32) << 16`` — exact, every bfloat16 is a float32.
"""
import collections
import math
import pickle

import numpy as np

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


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The pickle asked for a global outside the allowlist; nothing was imported or run."""


class _Frozen:
    """A pickle ``BUILD`` on a marker must not rewrite it after its checks (``BUILD`` calls ``__setstate__``)."""

    __slots__ = ()

    def __setstate__(self, state):
        raise UnsafePickleError(f"a pickle BUILD tried to modify {type(self).__name__}; refusing to load it")


class StorageType(_Frozen):
    """Stands in for ``torch.FloatStorage`` & co.: only its name and numpy dtype matter."""

    __slots__ = ("name", "dtype", "is_bfloat16")

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]
        self.is_bfloat16 = name == "BFloat16Storage"

    def __repr__(self):
        return f"torch.{self.name}"


class TensorType(_Frozen):
    """Stands in for ``torch.FloatTensor`` & co. (the tar layout records the original tensor type)."""

    __slots__ = ("name",)

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


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)) or len(value) > MAX_NDIM:
        raise ValueError(f"tensor {what} must be a tuple of at most {MAX_NDIM} ints, got {value!r:.80}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise ValueError(f"tensor {what} must hold non-negative ints, got {value!r:.80}")
    return tuple(value)


def rebuild_tensor(storage, storage_offset, size, stride, *ignored):
    """Our ``torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    backward_hooks, metadata=None)`` (and ``_rebuild_tensor``): records the view; requires_grad and
    hooks are dropped (a state_dict holds plain tensors)."""
    if not isinstance(storage_offset, int) or isinstance(storage_offset, bool) or storage_offset < 0:
        raise ValueError(f"tensor storage_offset must be a non-negative int, got {storage_offset!r:.80}")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(size) != len(stride):
        raise ValueError(f"tensor size {size} and stride {stride} differ in length")
    return TensorRecipe(storage, storage_offset, size, stride)


def rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    """``torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)``: a Parameter is its data."""
    return data


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
        view = np.lib.stride_tricks.as_strided(storage_array[recipe.offset:], shape=recipe.size,
                                               strides=[s * storage_array.itemsize for s in recipe.stride],
                                               writeable=False)
        out = np.array(view, copy=True, order="C")
    else:
        out = np.empty(recipe.size, dtype=storage_array.dtype)
    if is_bfloat16:
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return out


ALLOWED_FUNCTIONS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): rebuild_parameter,
    ("torch", "Size"): tuple,
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` knows only the allowlist above.

    ``persistent_load`` is given by the caller (each file layout resolves storages its own way).
    ``source`` names the file in error messages."""

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
        raise UnsafePickleError(f"{self.source}: global {module}.{name} is not allowed in a checkpoint "
                                f"(only tensors, storages and OrderedDict are); refusing to load it")

    def persistent_load(self, pid):
        if self._persistent_load is None:
            raise UnsafePickleError(f"{self.source}: unexpected persistent id {pid!r:.80} in this pickle")
        return self._persistent_load(pid)


def load_pickle(file, source="<checkpoint>", persistent_load=None):
    """One pickle from ``file`` with the restricted unpickler; malformed data → ValueError naming ``source``."""
    try:
        return RestrictedUnpickler(file, persistent_load, source).load()
    except (UnsafePickleError, ValueError):
        raise
    except (pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError, AttributeError,
            UnicodeDecodeError, MemoryError, OverflowError) as exc:
        raise ValueError(f"{source}: corrupt or truncated pickle ({type(exc).__name__}: {exc})") from None
