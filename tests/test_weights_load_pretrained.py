"""load_pretrained: torch's checkpoints drive minitune's ResNet-18 to torch's logits."""
import collections

import numpy as np
import pytest
from conftest import REFERENCE, load_reference

import minitune
from minitune.io import convert, load_state_dict, resnet_keys, save, save_converted
from minitune.io.npz_format import num_params
from minitune.models import resnet18
from minitune.models.weights import load_pretrained

pytestmark = pytest.mark.weights

STATE = "weights_resnet18w4_state"


def make_source(kind, tmp_path):
    """A path holding the width-4 fixture's weights in the given form."""
    if kind in ("zip", "legacy"):
        return REFERENCE / f"weights_resnet18w4_{kind}.pth"
    if kind == "npz":
        return convert(REFERENCE / "weights_resnet18w4_zip.pth", tmp_path / "w.npz")[0]
    state = load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth")
    if kind == "checkpoint":
        return save({"epoch": 90, "state_dict": state, "best_acc1": 0.5}, tmp_path / "ckpt.pth")
    if kind == "102 keys":
        return save(collections.OrderedDict((k, v) for k, v in state.items() if "num_batches" not in k),
                    tmp_path / "old.pth")
    raise ValueError(kind)


def model_arrays(model):
    return {k: np.asarray(v.data) for k, v in model.state_dict().items()}


def logits(model, x):
    model.eval()
    with minitune.no_grad():
        return model(minitune.tensor(x)).data


@pytest.mark.parametrize("kind", ["zip", "legacy", "npz", "checkpoint", "102 keys"])
def test_loads_and_matches_torch_logits(tmp_path, kind):
    model = resnet18(num_classes=10, width=4, weights=str(make_source(kind, tmp_path)))
    expected = load_reference(STATE)
    got = model_arrays(model)
    assert list(got) == resnet_keys() and set(expected) == set(got)
    for key, want in expected.items():
        if kind == "102 keys" and key.endswith("num_batches_tracked"):
            assert got[key] == 0  # a missing counter defaults to 0
            continue
        np.testing.assert_array_equal(got[key], want, err_msg=key)
    ref = load_reference("weights_resnet18w4_logits")
    np.testing.assert_allclose(logits(model, ref["x"]), ref["logits"], rtol=1e-4, atol=1e-5)


def test_new_head_keeps_backbone(tmp_path, capsys):
    model = resnet18(num_classes=2, width=4, weights=REFERENCE / "weights_resnet18w4_zip.pth")
    out = capsys.readouterr().out
    assert "10-way fc head was replaced by a freshly initialized 2-way head" in out
    got, expected = model_arrays(model), load_reference(STATE)
    assert got["fc.weight"].shape == (2, 32) and got["fc.bias"].shape == (2,)
    for key in expected:
        if not key.startswith("fc."):
            np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    # the fresh head is Linear's default init: U(-1/sqrt(32), 1/sqrt(32))
    assert np.abs(got["fc.weight"]).max() <= 1 / np.sqrt(32)


def test_quiet_head_replacement(capsys):
    model = resnet18(num_classes=2, width=4)
    load_pretrained(model, REFERENCE / "weights_resnet18w4_zip.pth", num_classes=2, verbose=False)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.pop("layer1.0.conv1.weight"), r"missing from the file: \['layer1.0.conv1.weight'\]"),
    (lambda s: s.__setitem__("extra.bias", np.zeros(1)), r"not in the model: \['extra.bias'\]"),
    (lambda s: s.__setitem__("bn1.weight", np.zeros(5, np.float32)), r"shape mismatch: \['bn1.weight: file \(5,\) vs model \(4,\)'\]"),
])
def test_strict_checks_list_every_difference(tmp_path, edit, message):
    state = load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth")
    edit(state)
    save(state, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match=message):
        resnet18(num_classes=10, width=4, weights=tmp_path / "bad.pth")


def test_wrong_width_lists_shapes():
    with pytest.raises(ValueError, match=r"shape mismatch: \['conv1.weight: file \(4, 3, 7, 7\) vs model \(8, 3, 7, 7\)'"):
        resnet18(num_classes=10, width=8, weights=REFERENCE / "weights_resnet18w4_zip.pth")


def test_imagenet_missing_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run: minitune weights fetch resnet18"):
        resnet18(weights="imagenet", width=4)


@pytest.mark.parametrize("name", ["imagenet", "IMAGENET1K_V1", "DEFAULT"])
def test_imagenet_loads_the_converted_file(tmp_path, monkeypatch, name, capsys):
    state = load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth")
    rng = np.random.default_rng(0)
    state["fc.weight"] = rng.standard_normal((1000, 32)).astype(np.float32)
    state["fc.bias"] = rng.standard_normal(1000).astype(np.float32)
    save_converted(tmp_path / "resnet18-imagenet.npz", state, {"architecture": "resnet18"})
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(tmp_path))
    model = resnet18(weights=name, width=4)
    np.testing.assert_array_equal(model_arrays(model)["fc.bias"], state["fc.bias"])
    two = resnet18(weights=name, width=4, num_classes=2)
    assert model_arrays(two)["fc.weight"].shape == (2, 32) and "1000-way fc head" in capsys.readouterr().out


def test_wrong_architecture_in_metadata(tmp_path):
    save_converted(tmp_path / "w.npz", load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth"),
                   {"architecture": "resnet34"})
    with pytest.raises(ValueError, match="holds resnet34 weights, not resnet18"):
        resnet18(num_classes=10, width=4, weights=tmp_path / "w.npz")


@pytest.mark.parametrize("weights, error, message", [
    ("/no/such/file.pth", FileNotFoundError, "weights file not found"),
    (3, TypeError, "weights must be 'imagenet', 'builtin' or a path"),
])
def test_bad_weights_argument(weights, error, message):
    with pytest.raises(error, match=message):
        resnet18(num_classes=10, width=4, weights=weights)


def test_full_size_resnet18_matches_torchvision_keys_and_params():
    state = resnet18().state_dict()
    assert list(state) == resnet_keys() and num_params(state) == 11689512


def test_builtin_backbone_is_shipped_with_its_recipe_and_stated_hash():
    import hashlib
    import pathlib

    from minitune.io.npz_format import load_converted
    from minitune.models.weights import builtin_path

    path = builtin_path()
    assert path.is_file(), "weights/resnet18-builtin.npz is shipped with the repository"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    readme = (pathlib.Path(__file__).resolve().parents[1] / "weights" / "README.md").read_text()
    assert digest in readme, "weights/README.md states the sha256 of the shipped file"
    state, meta = load_converted(path)
    assert meta["width"] == 16 and meta["num_classes"] == 50 and len(meta["categories"]) == 50
    assert meta["seed"] == 0 and meta["recipe"]["script"] == "tools/pretrain.py"
    assert meta["metrics"]["source val acc@1"] > 0.5 and path.stat().st_size < 5e6
    model = resnet18(weights="builtin", num_classes=50)  # the source model, its 50-way head included
    assert model.conv1.out_channels == 16 and model.fc.out_features == 50
    np.testing.assert_array_equal(model_arrays(model)["fc.weight"], state["fc.weight"])
    np.testing.assert_array_equal(model_arrays(model)["layer4.1.bn2.running_var"], state["layer4.1.bn2.running_var"])


def test_builtin_with_a_new_head_and_a_clear_error_when_missing(tmp_path, monkeypatch, capsys):
    from minitune.models import weights as W

    model = resnet18(weights="builtin", num_classes=4)
    assert model.fc.out_features == 4 and "50-way fc head was replaced" in capsys.readouterr().out
    monkeypatch.setattr(W, "builtin_path", lambda: tmp_path / "resnet18-builtin.npz")
    with pytest.raises(FileNotFoundError, match="regenerate it with: python tools/pretrain.py"):
        resnet18(weights="builtin")
