"""Read files written by ``torch.save`` without torch: every tensor comes back as a numpy array.

``torch.load`` reads three layouts, and so does :func:`load` (see ``torch/serialization.py``):

* **zip** (torch ≥ 1.6): ``<prefix>/data.pkl`` is the object's pickle; each tensor's storage is
  the raw member ``<prefix>/data/<key>`` (``ZIP_STORED``, little-endian unless ``<prefix>/byteorder``
  says ``big``).  The prefix is the file stem at save time, so it is read from the archive.
  The persistent id is ``('storage', StorageType, key, location, numel)``.
* **legacy stream** (``_use_new_zipfile_serialization=False``): five pickles — magic number,
  protocol 1001, ``sys_info``, the object, the sorted storage keys — then, per key, an int64
  element count and the raw bytes.  The object pickle names storages *before* their bytes are
  read, so tensors are kept as recipes and made into arrays at the end.
* **legacy tar** (torch of ~2017): tar members ``storages`` (count; then per storage a pickled
  ``(key, location, StorageType)``, int64 count, raw bytes; then a pickled list of views),
  ``tensors`` (count; per tensor ``(key, storage_key, TensorType)``, int32 ndim, 4 pad bytes,
  sizes, strides, offset as int64) and ``pickle`` (the object; its persistent ids are tensor keys).

Every pickle goes through :class:`~minitune.io.unpickler.RestrictedUnpickler`, so a hostile file
is refused before any of its code runs.  Malformed, truncated or oversized files raise a
``ValueError`` that names the file and what is wrong.

Differences from torch: arrays, not tensors; bfloat16 becomes float32 (exactly); tensors that
shared a storage in the file are independent copies; ``requires_grad`` is dropped.
"""
import collections
import io
import os
import struct
import tarfile
import zipfile

import numpy as np

from .unpickler import StorageType, TensorRecipe, UnsafePickleError, load_pickle, materialize_tensor

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # torch/serialization.py
PROTOCOL_VERSION = 1001
LEGACY_PREFIX = b"\x80\x02\x8a\x0a"  # PROTO 2, LONG1 of 10 bytes: the magic number's pickle
MAX_BYTES = 4 << 30  # refuse files above 4 GiB (ResNet-18 is 45 MB)
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model")


class _StorageRef:
    """A storage named by the pickle: ``key`` into the reader's storages, optionally a window of it."""

    __slots__ = ("key", "start", "length")

    def __init__(self, key, start=0, length=None):
        self.key, self.start, self.length = key, start, length


def _decode(value):
    """py2-era files may hold byte strings where torch now writes str (torch's ``_maybe_decode_ascii``)."""
    return value.decode("ascii") if isinstance(value, bytes) else value


def _read_source(f, max_bytes):
    """(bytes, name) of a path or a binary file object."""
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        size = os.path.getsize(name)
        if size > max_bytes:
            raise ValueError(f"{name}: {size} bytes is more than the {max_bytes}-byte limit for a checkpoint")
        with open(name, "rb") as fh:
            return fh.read(), name
    name = getattr(f, "name", "<file object>")
    data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{name}: more than the {max_bytes}-byte limit for a checkpoint")
    return data, str(name)


def detect_layout(data):
    """``'zip'``, ``'legacy'`` or ``'tar'`` for the bytes of a ``torch.save`` file; ValueError otherwise."""
    if data[:4] == b"PK\x03\x04" or zipfile.is_zipfile(io.BytesIO(data)):
        return "zip"
    if data[:4] == LEGACY_PREFIX:
        return "legacy"
    if len(data) >= 512 and data[257:262] == b"ustar":
        return "tar"
    raise ValueError("not a torch.save file (neither a zip archive, a legacy pickle stream nor a tar archive)")


class _Reader:
    """State shared by the three layouts: the storages read so far and the source's name."""

    def __init__(self, data, source):
        self.data, self.source = data, source
        self.storages = {}  # key -> (1-D native-order array, is_bfloat16)

    def error(self, what):
        return ValueError(f"{self.source}: {what}")

    def storage_array(self, raw, stype, numel, big_endian=False):
        if not isinstance(stype, StorageType):
            raise self.error(f"storage type must be a torch storage class, got {stype!r:.60}")
        if not isinstance(numel, int) or numel < 0:
            raise self.error(f"storage size must be a non-negative int, got {numel!r:.60}")
        if len(raw) != numel * stype.dtype.itemsize:
            raise self.error(f"storage of {numel} x {stype.name} needs {numel * stype.dtype.itemsize} bytes, "
                             f"found {len(raw)} (truncated or corrupt)")
        dtype = stype.dtype.newbyteorder(">") if big_endian else stype.dtype
        return np.frombuffer(raw, dtype=dtype).astype(stype.dtype.newbyteorder("="), copy=False)

    # -- turning recipes into arrays -------------------------------------------------------------
    def materialize(self, obj):
        memo = {}
        try:
            return self._walk(obj, memo)
        except RecursionError:
            raise self.error("object nests too deeply") from None

    def _walk(self, obj, memo):
        if id(obj) in memo:
            return memo[id(obj)]
        if isinstance(obj, TensorRecipe):
            ref = obj.storage
            if not isinstance(ref, _StorageRef) or ref.key not in self.storages:
                raise self.error(f"tensor refers to a storage that is not in the file ({ref!r:.60})")
            array, is_bf16 = self.storages[ref.key]
            if ref.length is not None:
                if ref.start + ref.length > array.shape[0]:
                    raise self.error(f"storage view [{ref.start}:{ref.start + ref.length}] is outside its "
                                     f"storage of {array.shape[0]} elements")
                array = array[ref.start:ref.start + ref.length]
            try:
                out = materialize_tensor(obj, array, is_bf16)
            except ValueError as exc:
                raise self.error(str(exc)) from None
        elif isinstance(obj, (_StorageRef, StorageType)):
            raise self.error("the file holds a bare storage, which minitune does not load; save tensors instead")
        elif isinstance(obj, dict):
            out = collections.OrderedDict() if isinstance(obj, collections.OrderedDict) else {}
            memo[id(obj)] = out
            for k, v in obj.items():
                out[_decode(k)] = self._walk(v, memo)
            metadata = getattr(obj, "_metadata", None)
            if metadata is not None and isinstance(out, collections.OrderedDict):
                out._metadata = self._walk(metadata, memo)
        elif isinstance(obj, list):
            out = []
            memo[id(obj)] = out
            out.extend(self._walk(v, memo) for v in obj)
        elif isinstance(obj, tuple):
            out = tuple(self._walk(v, memo) for v in obj)
        else:
            out = _decode(obj)
        memo[id(obj)] = out
        return out

    # -- zip ---------------------------------------------------------------------------------------
    def read_zip(self):
        try:
            zf = zipfile.ZipFile(io.BytesIO(self.data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise self.error(f"truncated or corrupt zip archive ({exc})") from None
        if not infos:
            raise self.error("empty zip archive")
        prefix = infos[0].filename.split("/")[0]
        records = {info.filename: info for info in infos}
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED:
                raise self.error(f"record {info.filename} is compressed; torch.save writes ZIP_STORED records only")
        if f"{prefix}/data.pkl" not in records:
            raise self.error(f"no {prefix}/data.pkl record: not a torch.save zip (torch.jit archives are not supported)")

        def read(name):
            try:
                return zf.read(records[name])
            except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
                raise self.error(f"record {name}: {exc}") from None

        big_endian = False
        if f"{prefix}/byteorder" in records:
            order = read(f"{prefix}/byteorder").decode("ascii", "replace").strip()
            if order not in ("little", "big"):
                raise self.error(f"byteorder record says {order!r}, expected 'little' or 'big'")
            big_endian = order == "big"

        def persistent_load(pid):
            if not isinstance(pid, tuple) or len(pid) != 5 or _decode(pid[0]) != "storage":
                raise self.error(f"unexpected persistent id {pid!r:.80} (expected a 5-tuple for a storage)")
            _, stype, key, _location, numel = pid
            key = str(_decode(key))
            slot = (key, getattr(stype, "name", None))
            if slot not in self.storages:
                name = f"{prefix}/data/{key}"
                if name not in records:
                    raise self.error(f"missing storage record {name}")
                array = self.storage_array(read(name), stype, numel, big_endian)
                self.storages[slot] = (array, stype.is_bfloat16)
            return _StorageRef(slot)

        obj = load_pickle(io.BytesIO(read(f"{prefix}/data.pkl")), self.source, persistent_load)
        return self.materialize(obj)

    # -- legacy stream -------------------------------------------------------------------------------
    def read_legacy(self):
        f = io.BytesIO(self.data)
        if load_pickle(f, self.source) != MAGIC_NUMBER:
            raise self.error("invalid magic number; corrupt file?")
        protocol = load_pickle(f, self.source)
        if protocol != PROTOCOL_VERSION:
            raise self.error(f"invalid protocol version {protocol!r:.40}, expected {PROTOCOL_VERSION}")
        sys_info = load_pickle(f, self.source)
        if not isinstance(sys_info, dict):
            raise self.error("sys_info record is not a dict")
        big_endian = not sys_info.get("little_endian", True)
        declared = {}  # root key -> (StorageType, numel)

        def persistent_load(pid):
            if not isinstance(pid, tuple) or not pid:
                raise self.error(f"unexpected persistent id {pid!r:.80}")
            kind = _decode(pid[0])
            if kind == "module":
                raise UnsafePickleError(f"{self.source}: the file pickles a whole nn.Module (its source code); "
                                        "only state_dicts of tensors can be loaded safely")
            if kind != "storage" or len(pid) != 6:
                raise self.error(f"unexpected persistent id {pid!r:.80} (expected a 6-tuple for a storage)")
            _, stype, key, _location, numel, view = pid
            key = str(_decode(key))
            if not isinstance(stype, StorageType) or not isinstance(numel, int) or numel < 0:
                raise self.error(f"malformed storage id {pid!r:.80}")
            previous = declared.setdefault(key, (stype, numel))
            if (previous[0].name, previous[1]) != (stype.name, numel):
                raise self.error(f"storage {key} is declared twice with different types or sizes")
            if view is None:
                return _StorageRef(key)
            _view_key, offset, view_size = view
            return _StorageRef(key, int(offset), int(view_size))

        obj = load_pickle(f, self.source, persistent_load)
        keys = load_pickle(f, self.source)
        if not isinstance(keys, list):
            raise self.error("the storage key list is missing or malformed")
        for key in keys:
            key = str(_decode(key))
            if key not in declared:
                raise self.error(f"raw section names storage {key}, which the object never used")
            stype, numel = declared[key]
            header = f.read(8)
            if len(header) != 8:
                raise self.error(f"truncated before storage {key}")
            (count,) = struct.unpack("<q", header)
            if count != numel:
                raise self.error(f"storage {key} holds {count} elements, the pickle says {numel}")
            raw = f.read(numel * stype.dtype.itemsize)
            self.storages[key] = (self.storage_array(raw, stype, numel, big_endian), stype.is_bfloat16)
        return self.materialize(obj)

    # -- legacy tar ----------------------------------------------------------------------------------
    def read_tar(self):
        try:
            tar = tarfile.open(fileobj=io.BytesIO(self.data), mode="r:")
            members = {m.name: m for m in tar.getmembers()}
            for name in ("sys_info", "pickle", "storages", "tensors"):
                if name not in members or not members[name].isfile():
                    raise self.error(f"tar archive lacks the {name!r} member of a torch.save tar file")
            blobs = {name: tar.extractfile(members[name]).read() for name in ("pickle", "storages", "tensors")}
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise self.error(f"truncated or corrupt tar archive ({exc})") from None

        def read_exact(f, n, what):
            raw = f.read(n)
            if len(raw) != n:
                raise self.error(f"truncated {what}")
            return raw

        f = io.BytesIO(blobs["storages"])
        count = load_pickle(f, self.source)
        if not isinstance(count, int) or not 0 <= count <= len(blobs["storages"]):
            raise self.error(f"bad storage count {count!r:.40}")
        for _ in range(count):
            key, _location, stype = load_pickle(f, self.source)
            (numel,) = struct.unpack("<q", read_exact(f, 8, "storage header"))
            if not isinstance(stype, StorageType) or numel < 0:
                raise self.error(f"malformed storage record for key {key!r:.40}")
            raw = read_exact(f, numel * stype.dtype.itemsize, f"storage {key}")
            self.storages[key] = (self.storage_array(raw, stype, numel), stype.is_bfloat16)
        for target, root, offset, numel in load_pickle(f, self.source):
            if root not in self.storages:
                raise self.error(f"storage view refers to unknown storage {root!r:.40}")
            array, is_bf16 = self.storages[root]
            if offset < 0 or numel < 0 or offset + numel > array.shape[0]:
                raise self.error(f"storage view [{offset}:{offset + numel}] is outside its storage")
            self.storages[target] = (array[offset:offset + numel], is_bf16)

        tensors = {}
        f = io.BytesIO(blobs["tensors"])
        count = load_pickle(f, self.source)
        if not isinstance(count, int) or not 0 <= count <= len(blobs["tensors"]):
            raise self.error(f"bad tensor count {count!r:.40}")
        for _ in range(count):
            key, storage_key, _tensor_type = load_pickle(f, self.source)
            (ndim,) = struct.unpack("<i", read_exact(f, 4, "tensor header"))
            if not 0 <= ndim <= 64:
                raise self.error(f"tensor {key!r:.40} has ndim {ndim}")
            read_exact(f, 4, "tensor header")  # padding: old writers stored ndim as 8 bytes
            size = struct.unpack(f"<{ndim}q", read_exact(f, 8 * ndim, "tensor sizes"))
            stride = struct.unpack(f"<{ndim}q", read_exact(f, 8 * ndim, "tensor strides"))
            (offset,) = struct.unpack("<q", read_exact(f, 8, "tensor offset"))
            if storage_key not in self.storages:
                raise self.error(f"tensor {key!r:.40} refers to unknown storage {storage_key!r:.40}")
            try:
                tensors[key] = TensorRecipe(_StorageRef(storage_key), offset, size, stride)
            except ValueError as exc:
                raise self.error(str(exc)) from None

        def persistent_load(pid):
            if isinstance(pid, tuple):
                raise UnsafePickleError(f"{self.source}: the file pickles a whole nn.Module (its source code); "
                                        "only state_dicts of tensors can be loaded safely")
            try:
                return tensors[int(pid)]
            except (KeyError, ValueError, TypeError):
                raise self.error(f"pickle refers to unknown tensor {pid!r:.40}") from None

        obj = load_pickle(io.BytesIO(blobs["pickle"]), self.source, persistent_load)
        return self.materialize(obj)


def load(f, *, max_bytes=MAX_BYTES):
    """``torch.load(f, weights_only=True)`` without torch: the saved object, tensors as numpy arrays.

    ``f`` is a path or a binary file object.  An ``OrderedDict`` keeps its ``_metadata`` attribute."""
    data, source = _read_source(f, max_bytes)
    reader = _Reader(data, source)
    try:
        layout = detect_layout(data)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    try:
        return {"zip": reader.read_zip, "legacy": reader.read_legacy, "tar": reader.read_tar}[layout]()
    except (struct.error, TypeError, AttributeError, KeyError, IndexError) as exc:
        raise ValueError(f"{source}: corrupt {layout} checkpoint ({type(exc).__name__}: {exc})") from None
    except ValueError as exc:  # a tuple of the wrong length unpacks into ValueError too
        if str(exc).startswith(source):
            raise
        raise ValueError(f"{source}: corrupt {layout} checkpoint ({exc})") from None


def find_state_dict(obj, source="<checkpoint>"):
    """The state_dict in a loaded object: the object itself, or its ``'state_dict'``,
    ``'model_state_dict'`` or ``'model'`` entry (training checkpoints such as ``{'epoch': …, 'state_dict': …}``)."""
    if isinstance(obj, dict) and obj and all(isinstance(v, np.ndarray) for v in obj.values()):
        state = obj
    else:
        state = None
        if isinstance(obj, dict):
            for key in STATE_DICT_KEYS:
                if isinstance(obj.get(key), dict):
                    state = obj[key]
                    break
        if state is None:
            shape = f"dict with keys {sorted(map(str, obj))[:8]}" if isinstance(obj, dict) else type(obj).__name__
            raise ValueError(f"{source}: no state_dict found (got a {shape}; expected a dict of tensors or a "
                             f"checkpoint with one of {list(STATE_DICT_KEYS)})")
    bad = [k for k, v in state.items() if not isinstance(v, np.ndarray)]
    if bad or not all(isinstance(k, str) for k in state):
        raise ValueError(f"{source}: state_dict entries must map str names to tensors; not tensors: {bad[:5]}")
    out = collections.OrderedDict(state)
    if getattr(state, "_metadata", None) is not None:
        out._metadata = state._metadata
    return out


def load_state_dict(f, *, max_bytes=MAX_BYTES):
    """An ``OrderedDict`` name → numpy array from a ``torch.save`` file (a state_dict or a checkpoint holding one)."""
    source = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file object>")
    return find_state_dict(load(f, max_bytes=max_bytes), str(source))
