"""Writing zip .pth files: torch's record layout, 64-byte alignment, and an exact round trip."""
import collections
import struct
import zipfile

import numpy as np
import pytest
from conftest import REFERENCE

import minitune
from minitune.io import load, load_state_dict, save
from minitune.io.torch_writer import dumps

pytestmark = pytest.mark.weights

RNG = np.random.default_rng(0)
ARRAYS = {
    "float32": RNG.standard_normal((3, 4)).astype(np.float32),
    "float64": RNG.standard_normal(5),
    "float16": RNG.standard_normal((2, 2)).astype(np.float16),
    "int64 scalar": np.array(7, dtype=np.int64),
    "int32": np.array([-(2 ** 31), 2 ** 31 - 1], dtype=np.int32),
    "int16": np.array([-5, 5], dtype=np.int16),
    "int8": np.array([-128, 127], dtype=np.int8),
    "uint8": np.array([0, 255], dtype=np.uint8),
    "bool": np.array([[True], [False]]),
    "empty": np.zeros((0, 4), dtype=np.float32),
    "transposed": np.arange(12, dtype=np.float32).reshape(3, 4).T,
    "big-endian": np.arange(4, dtype=">f4"),
    "4-d": RNG.standard_normal((2, 3, 3, 3)).astype(np.float32),
}


def payload_offset(data, info):
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_round_trip_each_dtype(tmp_path, name):
    save({name: ARRAYS[name]}, tmp_path / "x.pth")
    got = load_state_dict(tmp_path / "x.pth")[name]
    assert got.dtype == ARRAYS[name].dtype.newbyteorder("=") and got.shape == ARRAYS[name].shape
    np.testing.assert_array_equal(got, ARRAYS[name])


def test_resnet_round_trip_keeps_order_and_metadata(tmp_path):
    state = load_state_dict(REFERENCE / "weights_resnet18w4_legacy.pth")
    save(state, tmp_path / "resnet.pth")
    back = load_state_dict(tmp_path / "resnet.pth")
    assert list(back) == list(state) and back._metadata == state._metadata
    for key in state:
        assert back[key].dtype == state[key].dtype
        np.testing.assert_array_equal(back[key], state[key])


def test_minitune_tensors_and_checkpoints(tmp_path):
    w = minitune.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    ckpt = {"epoch": 2, "lr": 0.01, "best": None, "flags": [True, False], "shape": (1, 2),
            "state_dict": collections.OrderedDict(w=w, n=np.array(3)), "big": 2 ** 40, "neg": -70000}
    save(ckpt, tmp_path / "c.pth")
    back = load(tmp_path / "c.pth")
    assert {k: v for k, v in back.items() if k != "state_dict"} == {k: v for k, v in ckpt.items() if k != "state_dict"}
    np.testing.assert_array_equal(back["state_dict"]["w"], w.data)
    assert back["state_dict"]["n"] == 3


def test_record_layout(tmp_path):
    """torch.save's records, in order, named after the file stem; all stored, payloads 64-byte aligned."""
    path = tmp_path / "resnet18-test.pth"
    save(collections.OrderedDict(a=np.ones(3, np.float32), b=np.arange(5)), path)
    data = path.read_bytes()
    zf = zipfile.ZipFile(path)
    assert zf.namelist() == [f"resnet18-test/{n}" for n in ("data.pkl", ".format_version", ".storage_alignment",
                                                             "byteorder", "data/0", "data/1", "version",
                                                             ".data/serialization_id")]
    assert zf.read("resnet18-test/byteorder") == b"little" and zf.read("resnet18-test/version") == b"3\n"
    assert zf.read("resnet18-test/.format_version") == b"1" and zf.read("resnet18-test/.storage_alignment") == b"64"
    assert len(zf.read("resnet18-test/.data/serialization_id")) == 40
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        assert payload_offset(data, info) % 64 == 0, info.filename
    assert zf.read("resnet18-test/data/1") == np.arange(5, dtype="<i8").tobytes()
    assert zf.read("resnet18-test/data.pkl")[:2] == b"\x80\x02"  # pickle protocol 2


def test_same_input_same_bytes():
    state = collections.OrderedDict(a=np.arange(4, dtype=np.float32))
    assert dumps(state, "x") == dumps(collections.OrderedDict(a=np.arange(4, dtype=np.float32)), "x")


def test_shared_array_shares_a_storage():
    a = np.arange(4, dtype=np.float32)
    names = zipfile.ZipFile(__import__("io").BytesIO(dumps({"a": a, "b": a}))).namelist()
    assert [n for n in names if "/data/" in n] == ["archive/data/0"]


@pytest.mark.parametrize("bad, error", [
    ({"a": np.array(["x"])}, "dtype <U1"),
    ({"a": object()}, "cannot write a object"),
    ({("t",): np.zeros(1)}, "keys must be str or int"),
    ({"a": {1, 2}}, "cannot write a set"),
])
def test_unwritable_values(tmp_path, bad, error):
    with pytest.raises(TypeError, match=error):
        save(bad, tmp_path / "x.pth")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_atomic_overwrite(tmp_path):
    path = tmp_path / "x.pth"
    save({"a": np.zeros(2)}, path)
    save({"a": np.ones(2)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["x.pth"]
    np.testing.assert_array_equal(load_state_dict(path)["a"], np.ones(2))
