"""The restricted unpickler: hostile checkpoints are refused and none of their code runs."""
import io
import os
import pickle
import tarfile
import zipfile

import numpy as np
import pytest

from minitune.io import CheckpointError, UnsafePickleError, load, load_state_dict
from minitune.io.torch_writer import _PickleWriter
from minitune.io.unpickler import (ALLOWED_FUNCTIONS, TensorRecipe, describe, load_pickle, materialize_tensor,
                                   rebuild_tensor)

pytestmark = pytest.mark.weights


class Evil:
    """Pickles as a call of ``func(*args)``: what an attacker puts in a .pth file."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def payloads(marker):
    cmd = f"touch {marker}"
    return {
        "os.system": Evil(os.system, cmd),
        "builtins.eval": Evil(eval, f"__import__('os').system({cmd!r})"),
        "builtins.exec": Evil(exec, f"import os; os.system({cmd!r})"),
        "builtins.getattr": Evil(getattr, "text", "upper"),
        "subprocess.call": Evil(__import__("subprocess").call, ["touch", str(marker)]),
        "numpy.load": Evil(np.load, str(marker)),
    }


def zip_with(pkl, prefix="evil"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", pkl)
        zf.writestr(f"{prefix}/version", b"3\n")
    return buf.getvalue()


def legacy_with(pkl, position=3):
    parts = [pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2), pickle.dumps(1001, protocol=2),
             pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
             pickle.dumps({}, protocol=2), pickle.dumps([], protocol=2)]
    parts[position] = pkl
    return b"".join(parts)


def tar_with(pkl):
    buf = io.BytesIO()
    empty = pickle.dumps(0, protocol=2)
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, blob in (("sys_info", pickle.dumps({}, protocol=2)), ("pickle", pkl),
                           ("storages", empty + pickle.dumps([], protocol=2)), ("tensors", empty)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


CONTAINERS = {
    "zip": zip_with,
    "legacy object": legacy_with,
    "legacy sys_info": lambda pkl: legacy_with(pkl, 2),
    "legacy key list": lambda pkl: legacy_with(pkl, 4),
    "tar": tar_with,
}


@pytest.mark.parametrize("container", sorted(CONTAINERS))
@pytest.mark.parametrize("payload", sorted(payloads("x")))
@pytest.mark.parametrize("nested", [False, True])
def test_hostile_pickle_is_refused_and_nothing_runs(tmp_path, container, payload, nested):
    marker = tmp_path / "pwned"
    evil = payloads(marker)[payload]
    obj = {"state_dict": {"conv.weight": [evil]}} if nested else evil
    path = tmp_path / "evil.pth"
    path.write_bytes(CONTAINERS[container](pickle.dumps(obj, protocol=2, fix_imports=False)))
    module, name = pickle.whichmodule(evil.func, evil.func.__name__), evil.func.__name__
    with pytest.raises(UnsafePickleError, match=rf"evil\.pth: global {module}\.{name} is not allowed"):
        load(path)
    assert not marker.exists()


def test_error_is_a_value_error_too():
    assert issubclass(UnsafePickleError, ValueError) and issubclass(UnsafePickleError, pickle.UnpicklingError)


def test_allowlist_is_exactly_this():
    assert set(ALLOWED_FUNCTIONS) == {
        ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"), ("torch", "Size"),
    }


@pytest.mark.parametrize("module, name", [
    ("torch", "load"), ("torch", "FloatStorageX"), ("torch._utils", "_rebuild_device_tensor_from_numpy"),
    ("copyreg", "_reconstructor"), ("numpy.core.multiarray", "_reconstruct"), ("builtins", "__import__"),
    ("collections", "defaultdict"), ("torch.nn.modules.conv", "Conv2d"), ("__builtin__", "eval"),
])
def test_other_globals_refused(module, name):
    pkl = b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n."
    with pytest.raises(UnsafePickleError, match=rf"global {module}\.{name} is not allowed"):
        load_pickle(io.BytesIO(pkl), "t.pkl")


def test_build_cannot_rewrite_a_checked_tensor():
    """A BUILD after the rebuild call would change size/stride behind the bounds check: refused."""
    w = _PickleWriter()
    w.emit(b"\x80\x02")
    w.global_("torch._utils", "_rebuild_tensor_v2")
    w.tuple_((None, 0, (1,), (1,), False))
    w.emit(b"R")
    w.value({"size": (10 ** 9,)})
    w.emit(b"b.")
    with pytest.raises(UnsafePickleError, match="BUILD"):
        load_pickle(io.BytesIO(w.out.getvalue()), "t.pkl")


def test_whole_module_pickle_refused(tmp_path):
    """Old torch pickled nn.Modules with their source: persistent id ('module', cls, file, source)."""
    pkl = b"\x80\x02(X\x06\x00\x00\x00moduleNNNtQ."
    path = tmp_path / "m.pth"
    path.write_bytes(legacy_with(pkl))
    with pytest.raises(UnsafePickleError, match="whole nn.Module"):
        load(path)


@pytest.mark.parametrize("offset, size, stride, message", [
    (0, (3, 4), (4, 1), "reads element 11 of a storage of 10"),
    (7, (4,), (1,), "reads element 10 of a storage of 10"),
    (0, (2, 2), (9, 1), "reads element 10"),
    (0, (2,), (-1,), "non-negative"),
    (0, (2, 2), (1,), "differ in length"),
    (-1, (2,), (1,), "storage_offset"),
    (0, (1.5,), (1,), "non-negative ints"),
])
def test_views_outside_storage_refused(offset, size, stride, message):
    storage = np.arange(10, dtype=np.float32)
    with pytest.raises(ValueError, match=message):
        materialize_tensor(rebuild_tensor(None, offset, size, stride), storage)


@pytest.mark.parametrize("offset, size, stride, expected", [
    (0, (2, 5), (5, 1), np.arange(10).reshape(2, 5)),
    (0, (5, 2), (1, 5), np.arange(10).reshape(2, 5).T),
    (3, (4,), (1,), np.arange(3, 7)),
    (1, (3,), (3,), np.array([1, 4, 7])),
    (9, (), (), np.array(9)),
    (0, (0, 3), (3, 1), np.zeros((0, 3))),
    (2, (2, 3), (0, 1), np.array([[2, 3, 4], [2, 3, 4]])),  # expanded (stride 0)
])
def test_views_inside_storage(offset, size, stride, expected):
    got = materialize_tensor(TensorRecipe(None, offset, size, stride), np.arange(10, dtype=np.float64))
    np.testing.assert_array_equal(got, expected)
    assert got.shape == expected.shape


def test_bfloat16_bits():
    """bfloat16 = the upper 16 bits of a float32."""
    bits = np.array([0x3F80, 0xC000, 0x0000, 0x7F80, 0x3EAB], dtype=np.uint16)
    got = materialize_tensor(TensorRecipe(None, 0, (5,), (1,)), bits, is_bfloat16=True)
    np.testing.assert_array_equal(got, np.array([1.0, -2.0, 0.0, np.inf, 0.333984375], dtype=np.float32))


def test_zip_storage_out_of_bounds(tmp_path):
    """A tensor claiming more elements than its storage holds is refused (torch's set_ would fail too)."""
    w = _PickleWriter()
    w.emit(b"\x80\x02")
    w.global_("torch._utils", "_rebuild_tensor_v2")
    w.emit(b"((")
    w.str_("storage")
    w.global_("torch", "FloatStorage")
    w.str_("0")
    w.str_("cpu")
    w.int_(4)
    w.emit(b"tQ")
    w.int_(2)
    w.tuple_((3,))
    w.tuple_((1,))
    w.emit(b"\x89")
    w.emit(b"}tR.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a/data.pkl", w.out.getvalue())
        zf.writestr("a/data/0", np.arange(4, dtype="<f4").tobytes())
    (tmp_path / "oob.pth").write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match=r"oob\.pth: tensor view .* reads element 4 of a storage of 4 elements"):
        load(tmp_path / "oob.pth")


def test_state_dict_of_non_tensor_refused(tmp_path):
    path = tmp_path / "x.pth"
    path.write_bytes(zip_with(pickle.dumps({"a": 1, "b": "s"}, protocol=2)))
    with pytest.raises(ValueError, match="no state_dict found"):
        load_state_dict(path)


# ---- hostile but well-formed pickles (issue 16.2) --------------------------------------------------
@pytest.mark.parametrize("target", ["_rebuild_parameter", "_rebuild_tensor_v2"])
@pytest.mark.parametrize("state", [b"N}X\x0c\x00\x00\x00__defaults__(K\x01K\x02K\x03ts\x86",  # (None, {slot: v})
                                   b"}X\x07\x00\x00\x00__doc__K\x01s"])
def test_build_cannot_change_an_allowed_function(target, state):
    """BUILD on a global used to run setattr on our function (rebuild_parameter.__defaults__ for the
    rest of the process); the allowlist hands out frozen AllowedCall objects and BUILD is refused."""
    from minitune.io import unpickler
    before = unpickler.rebuild_parameter.__defaults__, dict(unpickler.rebuild_tensor.__dict__)
    pkl = b"\x80\x02ctorch._utils\n" + target.encode() + b"\n" + state + b"b."
    with pytest.raises(UnsafePickleError, match=rf"BUILD on torch\._utils\.{target} is not allowed"):
        load_pickle(io.BytesIO(pkl), "t.pkl")
    assert (unpickler.rebuild_parameter.__defaults__, unpickler.rebuild_tensor.__dict__) == before
    with pytest.raises(UnsafePickleError):
        ALLOWED_FUNCTIONS[("torch._utils", target)].qualname = "x"


@pytest.mark.parametrize("name, pkl", [
    ("tuple DAG as a dict key", b"\x80\x02})" + b"2\x86" * 64 + b"K\x00s."),
    ("tuple DAG in a frozenset", b"\x80\x04()" + b"2\x86" * 64 + b"\x91."),
    ("100000-deep tuple as a key", b"\x80\x02})" + b"\x85" * 100_000 + b"K\x00s."),
])
def test_keys_are_hashed_only_within_a_budget(name, pkl):
    """hash((t, t)) re-hashes t twice: 64 levels are 2**64 steps (a hang before)."""
    with pytest.raises(CheckpointError, match="nests more than 10000 tuples"):
        load_pickle(io.BytesIO(pkl), "t.pkl")


def test_describe_is_bounded():
    dag = ()
    for _ in range(64):
        dag = (dag, dag)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert describe(dag) == "((<tuple of 2>, <tuple of 2>), (<tuple of 2>, <tuple of 2>))"
    assert describe(deep) == "[[<list of 1>]]"
    assert describe(10 ** 5000) == "<int of 16610 bits>" and describe((7,)) == "(7,)"
    assert len(describe("x" * 10 ** 6)) <= 80


@pytest.mark.parametrize("pkl, message", [
    (b"\x80\x05\x96" + (1 << 40).to_bytes(8, "little") + b".", "protocol-5 buffers"),  # BYTEARRAY8 of 1 TiB
    (b"\x80\x02ccollections\nOrderedDict\n](K\x01K\x02ta\x85R.", "torch pickles it empty"),
    (b"\x80\x02ctorch\nSize\nX\x03\x00\x00\x00abc\x85R.", "torch.Size must be a tuple"),
])
def test_allocations_a_pickle_cannot_ask_for(pkl, message):
    with pytest.raises(CheckpointError, match=message):
        load_pickle(io.BytesIO(pkl), "t.pkl")


def test_huge_memo_index_allocates_nothing():
    """LONG_BINPUT 2**32 - 1: the C unpickler grows its memo array to that size; the Python one uses a dict."""
    assert load_pickle(io.BytesIO(b"\x80\x02Nr\xff\xff\xff\xff."), "t.pkl") is None
