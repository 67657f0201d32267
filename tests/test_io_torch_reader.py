"""Reading torch.save files without torch: every layout, dtype and view loads to torch's exact arrays."""
import collections
import io
import os
import shutil
import struct
import zipfile

import numpy as np
import pytest
from checkpoint_mutants import dict_of, tensor_ops, zip_checkpoint
from conftest import REFERENCE, load_reference

from minitune.io import CheckpointError, UnsafePickleError, find_state_dict, load, load_state_dict, save
from minitune.io.torch_reader import detect_layout
from minitune.io.unpickler import load_pickle

pytestmark = pytest.mark.weights

# (file written by torch in tools/references/weights.py, reference arrays, layout)
FIXTURES = [
    ("weights_resnet18w4_zip.pth", "weights_resnet18w4_state", "zip"),
    ("weights_resnet18w4_legacy.pth", "weights_resnet18w4_state", "legacy"),
    ("weights_mixed_zip.pth", "weights_mixed", "zip"),
    ("weights_mixed_legacy.pth", "weights_mixed", "legacy"),
    ("weights_mixed_tar.pth", "weights_mixed_tar", "tar"),
    ("weights_checkpoint.pth", "weights_checkpoint_state", "zip"),
]


def assert_same_arrays(got, expected):
    """Same keys, dtypes, shapes and values.  The .npz references store keys sorted, so key *order*
    is checked by the tests below against torch's own order, not here."""
    assert set(got) == set(expected), set(got) ^ set(expected)
    for key, want in expected.items():
        assert got[key].dtype == want.dtype, (key, got[key].dtype, want.dtype)
        assert got[key].shape == want.shape, (key, got[key].shape, want.shape)
        np.testing.assert_array_equal(got[key], want, err_msg=key)


@pytest.mark.parametrize("filename, reference, layout", FIXTURES)
def test_loads_torch_files_exactly(filename, reference, layout):
    path = REFERENCE / filename
    assert detect_layout(path.read_bytes()) == layout
    assert_same_arrays(load_state_dict(path), load_reference(reference))


@pytest.mark.parametrize("zip_file, legacy_file", [("weights_mixed_zip.pth", "weights_mixed_legacy.pth"),
                                                   ("weights_resnet18w4_zip.pth", "weights_resnet18w4_legacy.pth")])
def test_key_order_is_the_files_order(zip_file, legacy_file):
    """torch wrote the same OrderedDict in both layouts; both readers keep its order."""
    zip_keys, legacy_keys = list(load_state_dict(REFERENCE / zip_file)), list(load_state_dict(REFERENCE / legacy_file))
    assert zip_keys == legacy_keys and zip_keys != sorted(zip_keys)


def test_resnet_key_order_is_torchvisions():
    from minitune.models import resnet18
    assert list(load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth")) == \
        list(resnet18(num_classes=10, width=4).state_dict())


@pytest.mark.parametrize("filename", ["weights_resnet18w4_zip.pth", "weights_resnet18w4_legacy.pth"])
def test_resnet_state_dict_keeps_order_and_metadata(filename):
    state = load_state_dict(REFERENCE / filename)
    assert len(state) == 122 and list(state)[:2] == ["conv1.weight", "bn1.weight"]
    assert list(state)[-2:] == ["fc.weight", "fc.bias"]
    assert state["bn1.num_batches_tracked"].shape == () and state["bn1.num_batches_tracked"].dtype == np.int64
    assert state._metadata["bn1"] == {"version": 2} and state._metadata[""] == {"version": 1}


@pytest.mark.parametrize("layout", ["zip", "legacy"])
@pytest.mark.parametrize("key, dtype", [
    ("f16", np.float16), ("bf16", np.float32), ("i8", np.int8), ("u8", np.uint8), ("bool", np.bool_),
    ("scalar", np.int64), ("empty", np.float32), ("transposed", np.float32), ("slice", np.float32),
    ("strided", np.float32), ("param", np.float32),
])
def test_mixed_entries(layout, key, dtype):
    """Every entry comes out as a fresh, writable, C-contiguous array (bfloat16 as float32)."""
    got = load_state_dict(REFERENCE / f"weights_mixed_{layout}.pth")[key]
    assert got.dtype == dtype and got.flags["C_CONTIGUOUS"] and got.flags["WRITEABLE"]
    np.testing.assert_array_equal(got, load_reference("weights_mixed")[key])


def test_views_are_independent_copies():
    state = load_state_dict(REFERENCE / "weights_mixed_zip.pth")
    state["base"][3] = -1.0
    assert state["slice"][0] == 3.0  # torch would share; minitune copies (documented)


def test_checkpoint_dict_is_found_and_rest_kept():
    obj = load(REFERENCE / "weights_checkpoint.pth")
    assert obj["epoch"] == 3 and obj["best_acc1"] == 0.75
    assert obj["optimizer"]["param_groups"][0]["lr"] == 0.1
    assert isinstance(obj["optimizer"]["state"][0]["momentum_buffer"], np.ndarray)


@pytest.mark.parametrize("wrapper_key", ["state_dict", "model_state_dict", "model"])
def test_checkpoint_wrappers(tmp_path, wrapper_key):
    sd = collections.OrderedDict(w=np.arange(6, dtype=np.float32).reshape(2, 3), n=np.array(4))
    save({"epoch": 7, wrapper_key: sd, "note": "x"}, tmp_path / "ckpt.pth")
    assert_same_arrays(load_state_dict(tmp_path / "ckpt.pth"), sd)


@pytest.mark.parametrize("obj, message", [
    ({"epoch": 1, "lr": 0.1}, "no state_dict found"),
    ([np.zeros(2)], "no state_dict found"),
    ({"state_dict": {"a": np.zeros(2), "b": 3}}, "not tensors: ['b']"),
])
def test_no_state_dict(obj, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        find_state_dict(obj, "ckpt.pth")


def test_102_key_state_dict_loads(tmp_path):
    full = load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth")
    old = collections.OrderedDict((k, v) for k, v in full.items() if not k.endswith("num_batches_tracked"))
    save(old, tmp_path / "old.pth")
    assert len(load_state_dict(tmp_path / "old.pth")) == 102


def test_zip_prefix_is_read_from_archive(tmp_path):
    """torch names the records after the file stem at save time; a renamed file keeps the old prefix."""
    renamed = tmp_path / "renamed.pth"
    shutil.copy(REFERENCE / "weights_mixed_zip.pth", renamed)
    assert zipfile.ZipFile(renamed).namelist()[0] == "weights_mixed_zip/data.pkl"
    assert_same_arrays(load_state_dict(renamed), load_reference("weights_mixed"))


def rewrite_zip(src, dst, change):
    """Copy the zip ``src`` to ``dst`` record by record, passing (name, bytes) through ``change``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            name, data, compress = change(info.filename, zin.read(info))
            zout.writestr(zipfile.ZipInfo(name), data, compress_type=compress)


def test_big_endian_zip_is_byteswapped(tmp_path):
    """A zip whose ``byteorder`` record says big holds big-endian storages (``_load`` swaps them)."""
    expected = load_reference("weights_mixed")
    src = REFERENCE / "weights_mixed_zip.pth"
    itemsizes = {}  # storage key -> element size, from the persistent ids in data.pkl

    def record(pid):
        itemsizes[pid[2]] = pid[1].dtype.itemsize
        return None

    load_pickle(io.BytesIO(zipfile.ZipFile(src).read("weights_mixed_zip/data.pkl")), "data.pkl", record)

    def change(name, data):
        if name.endswith("/byteorder"):
            return name, b"big", zipfile.ZIP_STORED
        if "/data/" in name:
            size = itemsizes[name.rsplit("/", 1)[1]]
            return name, np.frombuffer(data, f"<u{size}" if size > 1 else "u1").byteswap().tobytes(), zipfile.ZIP_STORED
        return name, data, zipfile.ZIP_STORED

    rewrite_zip(src, tmp_path / "big.pth", change)
    assert_same_arrays(load_state_dict(tmp_path / "big.pth"), expected)


# ---- malformed files: always a ValueError naming the file and the problem -------------------------
def truncated(data, fraction):
    data = data.rstrip(b"\0")  # a tar ends in zero padding that it does not need
    return data[: int(len(data) * fraction)]


def payload_offset(data, info):
    """Where a zip record's bytes start: after its *local* header (whose extra field may differ from the central one)."""
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len


@pytest.mark.parametrize("filename", ["weights_mixed_zip.pth", "weights_mixed_legacy.pth", "weights_mixed_tar.pth",
                                      "weights_resnet18w4_legacy.pth"])
@pytest.mark.parametrize("fraction", [0.0, 0.003, 0.3, 0.7, 0.999])
def test_truncated_files(tmp_path, filename, fraction):
    path = tmp_path / filename
    path.write_bytes(truncated((REFERENCE / filename).read_bytes(), fraction))
    with pytest.raises(ValueError, match=filename):
        load_state_dict(path)


def test_corrupted_zip_storage_fails_crc(tmp_path):
    data = bytearray((REFERENCE / "weights_mixed_zip.pth").read_bytes())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("weights_mixed_zip/data/0")
    data[payload_offset(data, info) + 1] ^= 0xFF
    (tmp_path / "bad.pth").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"bad\.pth: record weights_mixed_zip/data/0: BadZipFile: Bad CRC"):
        load_state_dict(tmp_path / "bad.pth")


@pytest.mark.parametrize("case, change, message", [
    ("compressed", lambda n, d: (n, d, zipfile.ZIP_DEFLATED), "is compressed"),
    ("short storage", lambda n, d: (n, d[:-4] if n.endswith("/data/0") else d, zipfile.ZIP_STORED), "truncated or corrupt"),
    ("no storage", lambda n, d: (n.replace("/data/0", "/data/x0"), d, zipfile.ZIP_STORED), "missing storage record"),
    ("no pickle", lambda n, d: (n.replace("data.pkl", "other.pkl"), d, zipfile.ZIP_STORED), "no weights_mixed_zip/data.pkl"),
    ("bad byteorder", lambda n, d: (n, b"middle" if n.endswith("byteorder") else d, zipfile.ZIP_STORED), "byteorder"),
])
def test_malformed_zip(tmp_path, case, change, message):
    rewrite_zip(REFERENCE / "weights_mixed_zip.pth", tmp_path / "bad.pth", change)
    with pytest.raises(ValueError, match=message):
        load_state_dict(tmp_path / "bad.pth")


def test_legacy_wrong_element_count(tmp_path):
    data = bytearray((REFERENCE / "weights_mixed_legacy.pth").read_bytes())
    # the first storage header follows the key-list pickle; find it by its known element count
    state = load_state_dict(REFERENCE / "weights_mixed_legacy.pth")
    assert state  # sanity
    marker = struct.pack("<q", 24)  # f32 of shape (2, 3, 4): 24 elements
    at = data.find(marker, len(data) // 4)
    assert at > 0
    data[at:at + 8] = struct.pack("<q", 25)
    (tmp_path / "bad.pth").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="holds 25 elements, the pickle says 24"):
        load_state_dict(tmp_path / "bad.pth")


@pytest.mark.parametrize("data, message", [
    (b"", "not a torch.save file"),
    (b"hello world" * 10, "not a torch.save file"),
    (b"\x80\x02\x8a\x0a" + b"\x00" * 11, "corrupt"),
])
def test_not_a_checkpoint(tmp_path, data, message):
    (tmp_path / "x.pth").write_bytes(data)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "x.pth")


def test_size_cap(tmp_path):
    with pytest.raises(ValueError, match="limit"):
        load(REFERENCE / "weights_mixed_zip.pth", max_bytes=1000)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        load("/nonexistent/file.pth")


def test_file_object():
    with open(REFERENCE / "weights_mixed_legacy.pth", "rb") as f:
        assert_same_arrays(load_state_dict(f), load_reference("weights_mixed"))


# ---- hardening (issue 16): flag bits, budgets, shared views, non-regular files ---------------------
def zip_header_offsets(data):
    central = [i for i in range(len(data) - 3) if data[i:i + 4] == b"PK\x01\x02"]
    local = [i for i in range(len(data) - 3) if data[i:i + 4] == b"PK\x03\x04"]
    return central, local


@pytest.mark.parametrize("bit, what", [(0x1, "encrypted"), (0x20, "compressed patched data"),
                                       (0x40, "strongly encrypted")])
@pytest.mark.parametrize("header", ["central", "local"])
def test_zip_flag_bits_are_refused(tmp_path, bit, what, header):
    """zipfile raises RuntimeError / NotImplementedError for these; the reader names the record."""
    data = bytearray((REFERENCE / "weights_mixed_zip.pth").read_bytes())
    central, local = zip_header_offsets(data)
    if header == "central":
        data[central[4] + 8] |= bit
    else:
        data[local[4] + 6] |= bit
    (tmp_path / "flags.pth").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=rf"flags\.pth: record weights_mixed_zip/data/0 is {what}"):
        load(tmp_path / "flags.pth")


def test_every_error_is_a_checkpoint_error():
    assert issubclass(CheckpointError, ValueError) and issubclass(UnsafePickleError, CheckpointError)


def expanded(numel, offset, size, stride, count=1, same=True):
    """A zip checkpoint of ``count`` views of one float32 storage of ``numel`` elements."""
    entries = [(f"v{i}", tensor_ops("0", numel, offset + (0 if same else i), size, stride,
                                    memo=None if count == 1 else "put" if i == 0 else "get")) for i in range(count)]
    return zip_checkpoint(dict_of(entries), {"0": np.arange(numel, dtype="<f4").tobytes()})


def test_zero_stride_expansion_needs_max_bytes(tmp_path):
    """A 2**15 x 2**15 zero-stride view of one float asks for 4 GiB: refused before allocating,
    unless max_bytes= allows it (here a 2**12 x 2**12 one, allowed explicitly)."""
    (tmp_path / "big.pth").write_bytes(expanded(1, 0, (2 ** 15, 2 ** 15), (0, 0)))
    with pytest.raises(CheckpointError, match=r"big\.pth: a tensor of size \(32768, 32768\) needs 4294967296 bytes"):
        load(tmp_path / "big.pth")
    (tmp_path / "mid.pth").write_bytes(expanded(1, 0, (2 ** 12, 2 ** 13), (0, 0)))
    with pytest.raises(CheckpointError, match="max_bytes="):
        load(tmp_path / "mid.pth")
    got = load(tmp_path / "mid.pth", max_bytes=2 ** 27)["v0"]
    assert got.shape == (2 ** 12, 2 ** 13) and not got.any()


def test_same_view_is_shared_different_views_are_copies(tmp_path):
    (tmp_path / "same.pth").write_bytes(expanded(1 << 18, 0, (1 << 18,), (1,), count=600))
    got = load(tmp_path / "same.pth")  # 600 x 1 MiB if copied: over the budget; shared: 1 MiB
    assert len(got) == 600 and all(v is got["v0"] for v in got.values())
    (tmp_path / "distinct.pth").write_bytes(expanded(1 << 18, 0, (1 << 17,), (1,), count=600, same=False))
    with pytest.raises(CheckpointError, match="budget"):
        load(tmp_path / "distinct.pth")


@pytest.mark.parametrize("offset, size, stride, numel", [
    (0, (2 ** 61,), (1,), 4), (0, (2,), (2 ** 63,), 4), (2 ** 64, (1,), (1,), 4), (0, (4,), (1,), 2 ** 62),
    (0, (0,) + (2 ** 30,) * 3, (1,) * 4, 4), (0, (4,), (1,), 10 ** 4000),
])
def test_overflowing_sizes(tmp_path, offset, size, stride, numel):
    """Values from 2**61 to 2**64 and beyond: OverflowError in numpy before; now the documented error."""
    (tmp_path / "o.pth").write_bytes(zip_checkpoint(dict_of([("t", tensor_ops("0", numel, offset, size, stride))]),
                                                    {"0": np.zeros(4, "<f4").tobytes()}))
    with pytest.raises(CheckpointError, match=r"o\.pth: "):
        load(tmp_path / "o.pth")


def test_fifo_named_pth_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.pth")
    with pytest.raises(CheckpointError, match="not a regular file"):
        load(tmp_path / "pipe.pth")


def test_read_does_not_preallocate_the_limit():
    """``load`` reads in chunks: read(max_bytes + 1) would allocate 4 GiB for a 2 kB file."""
    class Recorder(io.BytesIO):
        sizes = []

        def read(self, n=-1):
            self.sizes.append(n)
            return super().read(n)

    f = Recorder((REFERENCE / "weights_mixed_legacy.pth").read_bytes())
    load(f)
    assert max(Recorder.sizes) <= 16 << 20
