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
is refused before any of its code runs.  Every malformed, truncated, oversized or hostile file
raises :class:`~minitune.io.unpickler.CheckpointError` (a ``ValueError``) whose message starts with
the file's name and says what is wrong — never another exception type, a hang or a memory blow-up:

* zip records that are encrypted, "patched" or strongly encrypted (flag bits 0, 5, 6) or compressed
  are refused (torch writes plain ``ZIP_STORED`` records);
* sizes, strides and offsets are ints below 2⁴⁸, element counts fit the file, views stay inside
  their storage, ints are unpacked only after these checks;
* memory: the arrays made from a file may take at most ``2 × file size + 64 MiB`` in all unless
  ``max_bytes=`` says otherwise — a zero-stride view can expand 4 bytes into 4 GiB, and many
  different views of one storage copy it many times.  Tensors with the *same* view of the same
  storage come back as one shared array (as they share memory in torch);
* containers nest at most ``MAX_DEPTH`` deep; untrusted values are formatted by ``describe``.

Differences from torch: arrays, not tensors; bfloat16 becomes float32 (exactly); tensors that are
different views of one storage are independent copies (the same view is one shared array);
``requires_grad`` is dropped.
"""
import collections
import io
import os
import stat
import struct
import zipfile

import numpy as np

from .torch_tar import read_tar
from .unpickler import (AllowedCall, CheckpointError, StorageRef, StorageType, TensorRecipe, TensorType,
                        UnsafePickleError, describe, exception_text, load_pickle, materialize_tensor, tensor_nbytes)

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # torch/serialization.py
PROTOCOL_VERSION = 1001
LEGACY_PREFIX = b"\x80\x02\x8a\x0a"  # PROTO 2, LONG1 of 10 bytes: the magic number's pickle
MAX_FILE_BYTES = 4 << 30  # refuse files above 4 GiB by default (ResNet-18 is 45 MB)
ARRAY_SLACK_BYTES = 64 << 20  # default array budget: 2 x file size + this
MAX_DEPTH = 64  # containers in a checkpoint nest a handful deep
MAX_BYTES = MAX_FILE_BYTES  # the old name
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model")
ZIP_REFUSED_FLAGS = {0x1: "encrypted", 0x20: "compressed patched data", 0x40: "strongly encrypted"}


def _decode(value):
    """py2-era files may hold byte strings where torch now writes str (torch's ``_maybe_decode_ascii``);
    bytes that are not ASCII stay bytes."""
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            return value
    return value


def _read_capped(fh, max_bytes):
    """All of ``fh``, or ``max_bytes + 1`` bytes if it has more: read in 16 MiB chunks, because
    ``read(n)`` allocates ``n`` bytes before it reads."""
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = fh.read(min(16 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _read_source(f, max_bytes):
    """(bytes, name) of a path or a binary file object; a path must be a regular file (a FIFO would block)."""
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        info = os.stat(name)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(f"{name} is a directory, not a checkpoint file")
            raise CheckpointError(f"{name}: not a regular file")
        if info.st_size > max_bytes:
            raise CheckpointError(f"{name}: {info.st_size} bytes is more than the {max_bytes}-byte limit "
                                  "for a checkpoint (pass max_bytes= to raise it)")
        with open(name, "rb") as fh:
            data = _read_capped(fh, max_bytes)
    else:
        name = getattr(f, "name", "<file object>")
        name = name if isinstance(name, str) else describe(name)
        data = _read_capped(f, max_bytes)
    if len(data) > max_bytes:
        raise CheckpointError(f"{name}: more than the {max_bytes}-byte limit for a checkpoint "
                              "(pass max_bytes= to raise it)")
    return data, name


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
    """State shared by the three layouts: the storages read so far, the source's name, the array budget."""

    def __init__(self, data, source, array_budget):
        self.data, self.source = data, source
        self.storages = {}  # key -> (1-D native-order array, is_bfloat16)
        self.array_budget, self.array_bytes = array_budget, 0

    def error(self, what):
        return CheckpointError(f"{self.source}: {what}")

    def key(self, value, what):
        """A storage or tensor key: a short str or an int (a pickle could put any value here)."""
        value = _decode(value)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or \
                (isinstance(value, str) and len(value) > 256) or (isinstance(value, int) and value.bit_length() > 64):
            raise self.error(f"{what} must be a short str or int, got {describe(value)}")
        return str(value)

    def count(self, value, what, limit):
        """A non-negative int element count of at most ``limit`` (what the bytes at hand can hold)."""
        if type(value) is not int or not 0 <= value <= limit:
            raise self.error(f"{what} must be an int in [0, {limit}], got {describe(value)}")
        return value

    def storage_array(self, raw, stype, numel, big_endian=False):
        if not isinstance(stype, StorageType):
            raise self.error(f"storage type must be a torch storage class, got {describe(stype)}")
        numel = self.count(numel, "storage size", len(self.data))
        if len(raw) != numel * stype.dtype.itemsize:
            raise self.error(f"storage of {numel} x {stype.name} needs {numel * stype.dtype.itemsize} bytes, "
                             f"found {len(raw)} (truncated or corrupt)")
        dtype = stype.dtype.newbyteorder(">") if big_endian else stype.dtype
        return np.frombuffer(raw, dtype=dtype).astype(stype.dtype.newbyteorder("="), copy=False)

    # -- turning recipes into arrays -------------------------------------------------------------
    def materialize(self, obj):
        """``obj`` with every tensor recipe made into an array; shared containers stay shared."""
        return self._walk(obj, {}, {}, 0)

    def _walk(self, obj, memo, views, depth):
        if id(obj) in memo:
            return memo[id(obj)]
        if depth > MAX_DEPTH:
            raise self.error(f"the object nests more than {MAX_DEPTH} containers deep")
        if isinstance(obj, TensorRecipe):
            out = self._tensor(obj, views)
        elif isinstance(obj, (StorageRef, StorageType)):
            raise self.error("the file holds a bare storage, which minitune does not load; save tensors instead")
        elif isinstance(obj, (AllowedCall, TensorType)):
            raise self.error(f"the file holds {describe(obj)} itself, not a value made by it")
        elif isinstance(obj, dict):
            out = collections.OrderedDict() if isinstance(obj, collections.OrderedDict) else {}
            memo[id(obj)] = out
            for k, v in obj.items():  # keys are walked too: a marker must not hide in a key
                out[self._walk(k, memo, views, depth + 1)] = self._walk(v, memo, views, depth + 1)
            metadata = getattr(obj, "_metadata", None)
            if metadata is not None and isinstance(out, collections.OrderedDict):
                out._metadata = self._walk(metadata, memo, views, depth + 1)
        elif isinstance(obj, list):
            out = []
            memo[id(obj)] = out
            out.extend(self._walk(v, memo, views, depth + 1) for v in obj)
        elif isinstance(obj, tuple):
            out = tuple(self._walk(v, memo, views, depth + 1) for v in obj)
        elif isinstance(obj, (set, frozenset)):
            out = type(obj)(self._walk(v, memo, views, depth + 1) for v in obj)
        else:
            out = _decode(obj)
        memo[id(obj)] = out
        return out

    def _tensor(self, recipe, views):
        """The array of one recipe: the same view of the same storage is made once and shared;
        every new array is counted against the budget *before* it is allocated."""
        ref = recipe.storage
        if not isinstance(ref, StorageRef) or ref.key not in self.storages:
            raise self.error(f"tensor refers to a storage that is not in the file ({describe(ref)})")
        view_key = (ref.key, ref.start, ref.length, recipe.offset, recipe.size, recipe.stride)
        if view_key in views:
            return views[view_key]
        array, is_bf16 = self.storages[ref.key]
        if ref.length is not None:
            if ref.start + ref.length > array.shape[0]:
                raise self.error(f"storage view [{ref.start}:{ref.start + ref.length}] is outside its "
                                 f"storage of {array.shape[0]} elements")
            array = array[ref.start:ref.start + ref.length]
        try:
            nbytes = tensor_nbytes(recipe, array.itemsize, is_bf16)
            if self.array_bytes + nbytes > self.array_budget:
                raise ValueError(f"a tensor of size {recipe.size} needs {nbytes} bytes: over the {self.array_budget}"
                                 f"-byte budget for this file's arrays (2 x file size + {ARRAY_SLACK_BYTES >> 20} MiB;"
                                 " pass max_bytes= to load expanded views)")
            out = materialize_tensor(recipe, array, is_bf16)
        except ValueError as exc:
            raise self.error(str(exc)) from None
        self.array_bytes += nbytes
        views[view_key] = out
        return out

    # -- zip ---------------------------------------------------------------------------------------
    def read_zip(self):
        try:
            zf = zipfile.ZipFile(io.BytesIO(self.data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, OverflowError, struct.error,
                NotImplementedError) as exc:
            raise self.error(f"truncated or corrupt zip archive ({exception_text(exc)})") from None
        if not infos:
            raise self.error("empty zip archive")
        prefix = infos[0].filename.split("/")[0]
        records = {info.filename: info for info in infos}
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED:
                raise self.error(f"record {info.filename[:100]} is compressed; torch.save writes "
                                 "ZIP_STORED records only")
            at = info.header_offset  # the local header repeats the flags, and zipfile ignores most of its copy
            local_flags = int.from_bytes(self.data[at + 6:at + 8], "little") if 0 <= at <= len(self.data) else 0
            for bit, what in ZIP_REFUSED_FLAGS.items():
                if (info.flag_bits | local_flags) & bit:
                    raise self.error(f"record {info.filename[:100]} is {what} (zip flag bit "
                                     f"{bit.bit_length() - 1}); torch.save writes plain records only")
        if f"{prefix}/data.pkl" not in records:
            raise self.error(f"no {prefix[:100]}/data.pkl record: not a torch.save zip "
                             "(torch.jit archives are not supported)")
        cache = {}

        def read(name):
            if name not in cache:
                try:
                    cache[name] = zf.read(records[name])
                except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile, ValueError, OverflowError,
                        struct.error, NotImplementedError, RuntimeError) as exc:
                    # zipfile raises NotImplementedError / RuntimeError for flag bits set in a *local* header
                    raise self.error(f"record {name[:100]}: {exception_text(exc)}") from None
            return cache[name]

        big_endian = False
        if f"{prefix}/byteorder" in records:
            order = read(f"{prefix}/byteorder").decode("ascii", "replace").strip()
            if order not in ("little", "big"):
                raise self.error(f"byteorder record says {describe(order)}, expected 'little' or 'big'")
            big_endian = order == "big"

        def persistent_load(pid):
            if type(pid) is not tuple or len(pid) != 5 or _decode(pid[0]) != "storage":
                raise self.error(f"unexpected persistent id {describe(pid)} (expected a 5-tuple for a storage)")
            _, stype, key, _location, numel = pid
            if not isinstance(stype, StorageType):
                raise self.error(f"storage type must be a torch storage class, got {describe(stype)}")
            key = self.key(key, "storage key")
            slot = (key, stype.name)
            if slot not in self.storages:
                name = f"{prefix}/data/{key}"
                if name not in records:
                    raise self.error(f"missing storage record {name[:100]}")
                array = self.storage_array(read(name), stype, numel, big_endian)
                self.storages[slot] = (array, stype.is_bfloat16)
            return StorageRef(slot)

        obj = load_pickle(io.BytesIO(read(f"{prefix}/data.pkl")), self.source, persistent_load)
        return self.materialize(obj)

    # -- legacy stream -------------------------------------------------------------------------------
    def read_legacy(self):
        f = io.BytesIO(self.data)
        if load_pickle(f, self.source) != MAGIC_NUMBER:
            raise self.error("invalid magic number; corrupt file?")
        protocol = load_pickle(f, self.source)
        if protocol != PROTOCOL_VERSION:
            raise self.error(f"invalid protocol version {describe(protocol)}, expected {PROTOCOL_VERSION}")
        sys_info = load_pickle(f, self.source)
        if not isinstance(sys_info, dict):
            raise self.error("sys_info record is not a dict")
        big_endian = not sys_info.get("little_endian", True)
        declared = {}  # root key -> (StorageType, numel)

        def persistent_load(pid):
            if type(pid) is not tuple or not pid:
                raise self.error(f"unexpected persistent id {describe(pid)}")
            kind = _decode(pid[0])
            if kind == "module":
                raise UnsafePickleError(f"{self.source}: the file pickles a whole nn.Module (its source code); "
                                        "only state_dicts of tensors can be loaded safely")
            if kind != "storage" or len(pid) != 6:
                raise self.error(f"unexpected persistent id {describe(pid)} (expected a 6-tuple for a storage)")
            _, stype, key, _location, numel, view = pid
            key = self.key(key, "storage key")
            if not isinstance(stype, StorageType):
                raise self.error(f"malformed storage id {describe(pid)}")
            numel = self.count(numel, f"size of storage {key}", len(self.data) // stype.dtype.itemsize)
            previous = declared.setdefault(key, (stype, numel))
            if (previous[0].name, previous[1]) != (stype.name, numel):
                raise self.error(f"storage {key} is declared twice with different types or sizes")
            if view is None:
                return StorageRef(key)
            if type(view) is not tuple or len(view) != 3:
                raise self.error(f"malformed storage view {describe(view)}")
            offset = self.count(view[1], f"view offset into storage {key}", numel)
            view_size = self.count(view[2], f"view size of storage {key}", numel - offset)
            return StorageRef(key, offset, view_size)

        obj = load_pickle(f, self.source, persistent_load)
        keys = load_pickle(f, self.source)
        if not isinstance(keys, list):
            raise self.error("the storage key list is missing or malformed")
        for key in keys:
            key = self.key(key, "storage key")
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

    # -- legacy tar: see torch_tar.py ---------------------------------------------------------------
    def read_tar(self):
        return read_tar(self)


def _array_budget(max_bytes, file_size):
    return 2 * file_size + ARRAY_SLACK_BYTES if max_bytes is None else max_bytes


def load(f, *, max_bytes=None):
    """``torch.load(f, weights_only=True)`` without torch: the saved object, tensors as numpy arrays.

    ``f`` is a path or a binary file object.  An ``OrderedDict`` keeps its ``_metadata`` attribute.
    ``max_bytes`` bounds the memory a file can make us use: by default the file may have up to
    ``MAX_FILE_BYTES`` (4 GiB) and the arrays made from it ``2 × file size + 64 MiB`` in all; an int
    sets both limits (raise it to load legitimately expanded tensors, e.g. a zero-stride view).
    Every problem with the file raises :class:`CheckpointError` naming the file."""
    if max_bytes is not None and (type(max_bytes) is not int or max_bytes < 0):
        raise TypeError(f"max_bytes must be a non-negative int or None, got {max_bytes!r:.40}")
    data, source = _read_source(f, MAX_FILE_BYTES if max_bytes is None else max_bytes)
    reader = _Reader(data, source, _array_budget(max_bytes, len(data)))
    try:
        layout = detect_layout(data)
    except ValueError as exc:
        raise CheckpointError(f"{source}: {exc}") from None
    try:
        return {"zip": reader.read_zip, "legacy": reader.read_legacy, "tar": reader.read_tar}[layout]()
    except CheckpointError:
        raise
    except (struct.error, TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError) as exc:
        # what the layout code did not check itself (a tuple of the wrong length unpacks into ValueError)
        raise CheckpointError(f"{source}: corrupt {layout} checkpoint ({exception_text(exc)})") from None


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
            shape = f"dict with keys {describe(sorted(map(describe, obj))[:8], 200)}" if isinstance(obj, dict) \
                else type(obj).__name__
            raise CheckpointError(f"{source}: no state_dict found (got a {shape}; expected a dict of tensors or a "
                                  f"checkpoint with one of {list(STATE_DICT_KEYS)})")
    bad = [k for k, v in state.items() if not isinstance(v, np.ndarray)]
    if bad or not all(isinstance(k, str) for k in state):
        raise CheckpointError(f"{source}: state_dict entries must map str names to tensors; not tensors: "
                              f"{describe(bad[:5], 200)}")
    out = collections.OrderedDict(state)
    if getattr(state, "_metadata", None) is not None:
        out._metadata = state._metadata
    return out


def load_state_dict(f, *, max_bytes=None):
    """An ``OrderedDict`` name → numpy array from a ``torch.save`` file (a state_dict or a checkpoint holding one)."""
    source = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file object>")
    return find_state_dict(load(f, max_bytes=max_bytes), source if isinstance(source, str) else describe(source))
