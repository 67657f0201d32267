"""The converted .npz format, its metadata, conversion from torch files and the ImageNet class names."""
import collections
import json
import zipfile

import numpy as np
import pytest
from conftest import REFERENCE, load_reference

from minitune.io import IMAGENET_CATEGORIES, convert, describe, export, load_converted, load_state_dict, resnet_keys, save_converted
from minitune.io.convert import detect_architecture
from minitune.io.npz_format import METADATA_KEY, num_params

pytestmark = pytest.mark.weights


def test_imagenet_categories():
    assert len(IMAGENET_CATEGORIES) == 1000 and len(set(IMAGENET_CATEGORIES)) == 1000
    assert (IMAGENET_CATEGORIES[309], IMAGENET_CATEGORIES[310]) == ("bee", "ant")
    assert (IMAGENET_CATEGORIES[0], IMAGENET_CATEGORIES[999]) == ("tench", "toilet tissue")


@pytest.mark.parametrize("value, dtype", [
    (np.arange(3, dtype=np.float64), np.float32), (np.arange(3, dtype=np.float16), np.float32),
    (np.array(5, dtype=np.int64), np.int64), (np.arange(3, dtype=np.int32), np.int64),
    (np.array([True, False]), np.bool_), (np.float32(2.5), np.float32),
])
def test_stored_dtypes(tmp_path, value, dtype):
    save_converted(tmp_path / "w.npz", {"v": value})
    state, meta = load_converted(tmp_path / "w.npz")
    assert state["v"].dtype == dtype and meta["keys"] == ["v"] and meta["format_version"] == 1
    np.testing.assert_array_equal(state["v"], np.asarray(value).astype(dtype))


def test_order_and_metadata_survive(tmp_path):
    keys = ["z", "a", "m"]
    save_converted(tmp_path / "w.npz", collections.OrderedDict((k, np.zeros(1)) for k in keys), {"note": "ok"})
    state, meta = load_converted(tmp_path / "w.npz")
    assert list(state) == keys and meta["note"] == "ok" and meta["format"] == "minitune-weights"
    with np.load(tmp_path / "w.npz", allow_pickle=False) as f:  # plain numpy reads it, no pickle needed
        assert json.loads(str(f[METADATA_KEY]))["keys"] == keys


@pytest.mark.parametrize("make, message", [
    (lambda p: np.savez(p, a=np.zeros(2)), "no __metadata__ entry"),
    (lambda p: np.savez(p, **{METADATA_KEY: np.array('{"format": "other"}')}), "format 'minitune-weights'"),
    (lambda p: np.savez(p, **{METADATA_KEY: np.array("{not json")}), "corrupt"),
    (lambda p: np.savez(p, **{METADATA_KEY: np.array('{"format": "minitune-weights"}'), "a": np.array([object()])}),
     "unreadable weights file .*allow_pickle=False"),
    (lambda p: p.write_bytes(b"PK\x03\x04 broken"), "corrupt"),
])
def test_bad_npz(tmp_path, make, message):
    path = tmp_path / "w.npz"
    make(path)
    with pytest.raises(ValueError, match=message):
        load_converted(path)


def test_reserved_key_and_object_arrays(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        save_converted(tmp_path / "w.npz", {METADATA_KEY: np.zeros(1)})
    with pytest.raises(TypeError, match="dtype object"):
        save_converted(tmp_path / "w.npz", {"a": np.array([object()])})
    assert list(tmp_path.iterdir()) == []


def test_resnet_keys_and_param_count():
    state = load_reference("weights_resnet18w4_state")
    assert list(resnet_keys()) == [k for k in resnet_keys()] and len(resnet_keys()) == 122
    assert set(resnet_keys()) == set(state) and len(resnet_keys(num_batches_tracked=False)) == 102
    assert detect_architecture(state) == "resnet18"
    assert detect_architecture({k: v for k, v in state.items() if "num_batches" not in k}) == "resnet18"
    assert detect_architecture({"a": 1}) is None
    # torchvision's num_params counts parameters, not BatchNorm's running statistics
    assert num_params(state) == sum(v.size for k, v in state.items() if v.dtype == np.float32
                                    and "running" not in k) == 45102


@pytest.mark.parametrize("source", ["weights_resnet18w4_zip.pth", "weights_resnet18w4_legacy.pth"])
def test_convert_then_export(tmp_path, source):
    npz, meta = convert(REFERENCE / source, tmp_path / "w.npz")
    state, stored = load_converted(npz)
    expected = load_reference("weights_resnet18w4_state")
    assert list(state) == resnet_keys()
    for key in expected:
        np.testing.assert_array_equal(state[key], expected[key])
    assert stored["architecture"] == "resnet18" and stored["num_classes"] == 10 and stored["num_params"] == 45102
    assert stored["source"]["file"] == source and len(stored["source"]["sha256"]) == 64
    assert stored["transforms"] == {"resize_size": 256, "crop_size": 224, "interpolation": "bilinear",
                                    "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    assert "categories" not in stored  # a 10-way head gets no ImageNet names
    pth = export(npz, tmp_path / "back.pth")
    back = load_state_dict(pth)
    assert list(back) == list(state)
    for key in state:
        np.testing.assert_array_equal(back[key], state[key])
    assert zipfile.ZipFile(pth).namelist()[0] == "back/data.pkl"


def test_convert_1000_way_gets_imagenet_names(tmp_path):
    state = load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth")
    state["fc.weight"] = np.zeros((1000, 32), np.float32)
    state["fc.bias"] = np.zeros(1000, np.float32)
    save_converted(tmp_path / "in.npz", state, {"architecture": "resnet18"})
    _, meta = convert(tmp_path / "in.npz", tmp_path / "out.npz")
    assert meta["categories"][309] == "bee" and meta["num_classes"] == 1000
    info = describe(tmp_path / "out.npz")
    assert info["architecture"] == "resnet18" and info["num_keys"] == 122
    assert info["keys"][0] == ("conv1.weight", (4, 3, 7, 7), "float32")


@pytest.mark.parametrize("state, message", [
    ({"a.weight": np.zeros(2)}, "not a ResNet-18"),
    ({**{k: np.zeros(1) for k in resnet_keys()}, "extra.weight": np.zeros(1)}, "not a ResNet-18"),
])
def test_convert_refuses_unknown_keys(tmp_path, state, message):
    from minitune.io import save

    save(state, tmp_path / "x.pth")
    with pytest.raises(ValueError, match=message):
        convert(tmp_path / "x.pth", tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()
