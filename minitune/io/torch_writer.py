"""Write a state_dict as a zip-format ``.pth`` file that ``torch.load(path, weights_only=True)`` reads.

The layout is the one ``torch.save`` writes (``torch/serialization.py`` ``_save``, checked by
dissecting its files), with ``prefix`` = the file's stem:

==================================  ================================================================
record (all ``ZIP_STORED``)         content
==================================  ================================================================
``prefix/data.pkl``                 pickle protocol 2 of the object; each tensor is
                                    ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
                                    False, OrderedDict())`` and its storage a persistent id
                                    ``('storage', torch.FloatStorage, key, 'cpu', numel)``
``prefix/.format_version``          ``1``
``prefix/.storage_alignment``       ``64``
``prefix/byteorder``                ``little``
``prefix/data/<key>``               the raw little-endian elements; the payload starts at a
                                    file offset that is a multiple of 64
``prefix/version``                  ``3\\n``
``prefix/.data/serialization_id``   40 decimal digits (here derived from the pickle, so the
                                    same state_dict gives the same bytes)
==================================  ================================================================

The pickle is emitted opcode by opcode (no torch to import, so ``pickle.Pickler`` cannot look the
globals up).  It holds dicts, OrderedDicts (with ``_metadata``), lists, tuples, str, int, float,
bool, None and arrays: numpy arrays or anything with an ndarray ``.data`` (a minitune Tensor).
Each tensor gets its own contiguous storage (the same array object twice shares one).
"""
import collections
import hashlib
import io
import os
import pickle
import struct

import zipfile

import numpy as np

from .atomic import atomic_write

ALIGNMENT = 64
STORAGE_NAMES = {
    np.dtype("float64"): "DoubleStorage", np.dtype("float32"): "FloatStorage", np.dtype("float16"): "HalfStorage",
    np.dtype("int64"): "LongStorage", np.dtype("int32"): "IntStorage", np.dtype("int16"): "ShortStorage",
    np.dtype("int8"): "CharStorage", np.dtype("uint8"): "ByteStorage", np.dtype("bool"): "BoolStorage",
    np.dtype("complex64"): "ComplexFloatStorage", np.dtype("complex128"): "ComplexDoubleStorage",
}


def _as_array(value):
    """The ndarray behind a numpy array or a minitune Tensor / Parameter; None for anything else."""
    if isinstance(value, np.ndarray):
        return value
    data = getattr(value, "data", None)
    return data if isinstance(data, np.ndarray) else None


class _PickleWriter:
    """Protocol-2 opcodes for the few types a checkpoint holds (see ``pickletools`` for the names)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.storages = []  # (key, little-endian contiguous array)
        self._storage_of = {}  # id(array) -> key
        self._keep = []  # keeps arrays alive so their ids stay unique

    def emit(self, *chunks):
        for chunk in chunks:
            self.out.write(chunk)

    def global_(self, module, name):
        self.emit(b"c", module.encode() + b"\n" + name.encode() + b"\n")  # GLOBAL

    def str_(self, s):
        raw = s.encode("utf-8", "surrogatepass")
        self.emit(b"X", struct.pack("<I", len(raw)), raw)  # BINUNICODE

    def int_(self, n):
        if 0 <= n < 256:
            self.emit(b"K", bytes([n]))  # BININT1
        elif 0 <= n < 65536:
            self.emit(b"M", struct.pack("<H", n))  # BININT2
        elif -(2 ** 31) <= n < 2 ** 31:
            self.emit(b"J", struct.pack("<i", n))  # BININT
        else:
            raw = pickle.encode_long(n)
            self.emit(b"\x8a", bytes([len(raw)]), raw)  # LONG1

    def tuple_(self, items):
        if not items:
            self.emit(b")")  # EMPTY_TUPLE
            return
        self.emit(b"(")  # MARK
        for item in items:
            self.value(item)
        self.emit(b"t")  # TUPLE

    def value(self, obj):
        array = _as_array(obj)
        if array is not None:
            self.tensor(array)
        elif obj is None:
            self.emit(b"N")
        elif obj is True or obj is False:
            self.emit(b"\x88" if obj else b"\x89")  # NEWTRUE / NEWFALSE
        elif isinstance(obj, (int, np.integer)):
            self.int_(int(obj))
        elif isinstance(obj, (float, np.floating)):
            self.emit(b"G", struct.pack(">d", float(obj)))  # BINFLOAT
        elif isinstance(obj, str):
            self.str_(obj)
        elif isinstance(obj, tuple):
            self.tuple_(obj)
        elif isinstance(obj, list):
            self.emit(b"]")  # EMPTY_LIST
            if obj:
                self.emit(b"(")
                for item in obj:
                    self.value(item)
                self.emit(b"e")  # APPENDS
        elif isinstance(obj, dict):
            self.dict_(obj)
        else:
            raise TypeError(f"cannot write a {type(obj).__name__} into a checkpoint; expected arrays, "
                            "tensors, dicts, lists, tuples, str, int, float, bool or None")

    def dict_(self, obj):
        ordered = isinstance(obj, collections.OrderedDict)
        if ordered:
            self.global_("collections", "OrderedDict")
            self.emit(b")R")  # EMPTY_TUPLE REDUCE: OrderedDict()
        else:
            self.emit(b"}")  # EMPTY_DICT
        if obj:
            self.emit(b"(")
            for key, val in obj.items():
                if not isinstance(key, (str, int)):
                    raise TypeError(f"checkpoint dict keys must be str or int, got {type(key).__name__}")
                self.value(key)
                self.value(val)
            self.emit(b"u")  # SETITEMS
        metadata = getattr(obj, "_metadata", None)
        if ordered and metadata is not None:
            self.emit(b"}")  # BUILD state {'_metadata': …} sets the attribute, as torch's pickles do
            self.str_("_metadata")
            self.value(metadata)
            self.emit(b"sb")  # SETITEM BUILD

    def tensor(self, array):
        dtype = array.dtype.newbyteorder("=")  # big-endian input is written little-endian
        if dtype not in STORAGE_NAMES:
            raise TypeError(f"cannot write an array of dtype {array.dtype} (torch has no storage for it)")
        key = self._storage_of.get(id(array))
        if key is None:
            key = str(len(self.storages))
            self._storage_of[id(array)] = key
            self._keep.append(array)
            self.storages.append((key, np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))))
        contiguous = self.storages[int(key)][1]
        stride = [int(np.prod(array.shape[i + 1:], dtype=np.int64)) for i in range(array.ndim)]
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.emit(b"(")  # MARK: the argument tuple
        self.emit(b"(")  # MARK: the persistent id
        self.str_("storage")
        self.global_("torch", STORAGE_NAMES[dtype])
        self.str_(key)
        self.str_("cpu")
        self.int_(contiguous.size)
        self.emit(b"tQ")  # TUPLE BINPERSID
        self.int_(0)
        self.tuple_(tuple(int(s) for s in array.shape))
        self.tuple_(tuple(stride))
        self.emit(b"\x89")  # requires_grad = False
        self.global_("collections", "OrderedDict")
        self.emit(b")R")  # backward_hooks = OrderedDict()
        self.emit(b"tR")  # TUPLE REDUCE


def _padding_extra(offset, name):
    """A well-formed zip extra field that moves the payload of a record whose local header starts at
    ``offset`` to a multiple of 64 (header = 30 bytes + name + extra)."""
    pad = -(offset + 30 + len(name) + 4) % ALIGNMENT
    return b"FB" + struct.pack("<H", pad) + b"Z" * pad


def dumps(obj, prefix="archive"):
    """The bytes of a zip-format ``torch.save`` file holding ``obj``."""
    writer = _PickleWriter()
    writer.emit(b"\x80\x02")  # PROTO 2
    writer.value(obj)
    writer.emit(b".")  # STOP
    data_pkl = writer.out.getvalue()
    serialization_id = str(int(hashlib.sha256(data_pkl).hexdigest(), 16))[:40].rjust(40, "0")
    records = [("data.pkl", data_pkl), (".format_version", b"1"), (".storage_alignment", b"64"),
               ("byteorder", b"little")]
    records += [(f"data/{key}", array.tobytes()) for key, array in writer.storages]
    records += [("version", b"3\n"), (".data/serialization_id", serialization_id.encode())]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, payload in records:
            info = zipfile.ZipInfo(f"{prefix}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _padding_extra(buf.tell(), info.filename.encode("utf-8"))
            zf.writestr(info, payload)
    return buf.getvalue()


def save(obj, path):
    """``torch.save(obj, path)`` for a state_dict (or a checkpoint dict) of numpy arrays / minitune Tensors.

    Written atomically: a temporary file in the same folder, renamed over ``path`` at the end."""
    path = os.fspath(path)
    prefix = os.path.splitext(os.path.basename(path))[0] or "archive"
    blob = dumps(obj, prefix)
    with atomic_write(path) as fh:
        fh.write(blob)
    return path
