"""The oldest ``torch.save`` layout (torch of ~2017): a tar archive, read without torch.

Members (``torch/serialization.py`` ``_legacy_load.legacy_load``):

* ``storages``: a pickled count; per storage a pickled ``(key, location, StorageType)``, an int64
  element count and the raw bytes; then a pickled list of views ``(key, root_key, offset, numel)``;
* ``tensors``: a pickled count; per tensor a pickled ``(key, storage_key, TensorType)``, an int32
  ndim, 4 pad bytes, then sizes, strides and the offset as int64;
* ``pickle``: the object, whose persistent ids are tensor keys.

Every count and size is checked against the bytes at hand before it is used (see ``torch_reader``).
"""
import io
import struct
import tarfile

from .unpickler import (CheckpointError, StorageRef, StorageType, UnsafePickleError, describe, exception_text,
                        load_pickle, rebuild_tensor)


def read_tar(reader):
    """The object of a tar checkpoint; ``reader`` is the ``torch_reader._Reader`` of the file."""
    blobs = _members(reader)
    _read_storages(reader, blobs["storages"])
    tensors = _read_tensors(reader, blobs["tensors"])

    def persistent_load(pid):
        if isinstance(pid, tuple):
            raise UnsafePickleError(f"{reader.source}: the file pickles a whole nn.Module (its source code); "
                                    "only state_dicts of tensors can be loaded safely")
        key = reader.key(pid, "tensor id")
        if key not in tensors:
            raise reader.error(f"pickle refers to unknown tensor {key[:40]}")
        return tensors[key]

    return reader.materialize(load_pickle(io.BytesIO(blobs["pickle"]), reader.source, persistent_load))


def _members(reader):
    try:
        tar = tarfile.open(fileobj=io.BytesIO(reader.data), mode="r:")
        members = {m.name: m for m in tar.getmembers()}
        for name in ("sys_info", "pickle", "storages", "tensors"):
            if name not in members or not members[name].isfile():
                raise reader.error(f"tar archive lacks the {name!r} member of a torch.save tar file")
        return {name: tar.extractfile(members[name]).read() for name in ("pickle", "storages", "tensors")}
    except CheckpointError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, OverflowError) as exc:
        raise reader.error(f"truncated or corrupt tar archive ({exception_text(exc)})") from None


def _read_exact(reader, f, n, what):
    raw = f.read(n)
    if len(raw) != n:
        raise reader.error(f"truncated {what}")
    return raw


def _read_storages(reader, blob):
    f = io.BytesIO(blob)
    count = reader.count(load_pickle(f, reader.source), "storage count", len(blob))
    for _ in range(count):
        record = load_pickle(f, reader.source)
        if type(record) is not tuple or len(record) != 3 or not isinstance(record[2], StorageType):
            raise reader.error(f"malformed storage record {describe(record)}")
        key, stype = reader.key(record[0], "storage key"), record[2]
        (numel,) = struct.unpack("<q", _read_exact(reader, f, 8, "storage header"))
        numel = reader.count(numel, f"size of storage {key}", len(blob))
        raw = _read_exact(reader, f, numel * stype.dtype.itemsize, f"storage {key}")
        reader.storages[key] = (reader.storage_array(raw, stype, numel), stype.is_bfloat16)
    views = load_pickle(f, reader.source)
    if not isinstance(views, list):
        raise reader.error(f"the storage view list is malformed ({describe(views)})")
    for view in views:
        if type(view) is not tuple or len(view) != 4:
            raise reader.error(f"malformed storage view {describe(view)}")
        target, root = reader.key(view[0], "storage view key"), reader.key(view[1], "storage key")
        if root not in reader.storages:
            raise reader.error(f"storage view refers to unknown storage {root[:40]}")
        array, is_bf16 = reader.storages[root]
        offset = reader.count(view[2], "storage view offset", array.shape[0])
        numel = reader.count(view[3], "storage view size", array.shape[0] - offset)
        reader.storages[target] = (array[offset:offset + numel], is_bf16)


def _read_tensors(reader, blob):
    tensors = {}
    f = io.BytesIO(blob)
    count = reader.count(load_pickle(f, reader.source), "tensor count", len(blob))
    for _ in range(count):
        record = load_pickle(f, reader.source)
        if type(record) is not tuple or len(record) != 3:
            raise reader.error(f"malformed tensor record {describe(record)}")
        key, storage_key = reader.key(record[0], "tensor key"), reader.key(record[1], "storage key")
        (ndim,) = struct.unpack("<i", _read_exact(reader, f, 4, "tensor header"))
        if not 0 <= ndim <= 64:
            raise reader.error(f"tensor {key[:40]} has ndim {ndim}")
        _read_exact(reader, f, 4, "tensor header")  # padding: old writers stored ndim as 8 bytes
        size = struct.unpack(f"<{ndim}q", _read_exact(reader, f, 8 * ndim, "tensor sizes"))
        stride = struct.unpack(f"<{ndim}q", _read_exact(reader, f, 8 * ndim, "tensor strides"))
        (offset,) = struct.unpack("<q", _read_exact(reader, f, 8, "tensor offset"))
        if storage_key not in reader.storages:
            raise reader.error(f"tensor {key[:40]} refers to unknown storage {storage_key[:40]}")
        try:
            tensors[key] = rebuild_tensor(StorageRef(storage_key), offset, size, stride)
        except ValueError as exc:
            raise reader.error(str(exc)) from None
    return tensors
