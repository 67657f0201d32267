"""``minitune weights fetch|convert|export|info`` through ``minitune.cli.main``: return codes and messages."""
import hashlib
import pathlib
import sys

import numpy as np
import pytest
from conftest import REFERENCE

from minitune.cli import main
from minitune.io import load_converted, load_state_dict, save
from minitune.models import resnet18

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from test_io_fetch import Server, closed_port_url  # noqa: E402

pytestmark = pytest.mark.weights


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def imagenet_like(tmp_path):
    """A width-4 ResNet-18 .pth with a 1000-way head, named as torch.hub names files (sha256 prefix)."""
    state = load_state_dict(REFERENCE / "weights_resnet18w4_zip.pth")
    rng = np.random.default_rng(0)
    state["fc.weight"] = rng.standard_normal((1000, 32)).astype(np.float32)
    state["fc.bias"] = rng.standard_normal(1000).astype(np.float32)
    (tmp_path / "src").mkdir()
    blob = pathlib.Path(save(state, tmp_path / "src" / "src.pth")).read_bytes()
    return blob, f"resnet18-{hashlib.sha256(blob).hexdigest()[:8]}.pth"


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.startswith("minitune: error: ") and err.count("\n") == 1, err
    return err


def test_fetch_downloads_converts_and_loads(server, imagenet_like, tmp_path, monkeypatch, capsys):
    blob, name = imagenet_like
    server.files["/" + name] = blob
    out = tmp_path / "weights"
    assert main(["weights", "fetch", "resnet18", "--url", f"{server.url}/{name}", "--dir", str(out), "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([name, "resnet18-imagenet.npz"])
    state, meta = load_converted(out / "resnet18-imagenet.npz")
    assert meta["categories"][309:311] == ["bee", "ant"] and meta["num_classes"] == 1000
    assert meta["source"] == {"file": name, "sha256": hashlib.sha256(blob).hexdigest(), "url": f"{server.url}/{name}"}
    assert meta["transforms"]["crop_size"] == 224 and meta["transforms"]["resize_size"] == 256
    # a second fetch finds the checked file and does not download again
    assert main(["weights", "fetch", "--url", f"{server.url}/{name}", "--dir", str(out), "--no-progress"]) == 0
    assert server.hits == ["/" + name]
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(out))
    model = resnet18(weights="imagenet", width=4)
    np.testing.assert_array_equal(model.state_dict()["fc.bias"].data, state["fc.bias"])


def test_fetch_url_from_environment(server, imagenet_like, tmp_path, monkeypatch):
    blob, name = imagenet_like
    server.files["/" + name] = blob
    monkeypatch.setenv("MINITUNE_WEIGHTS_URL", f"{server.url}/{name}")
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(tmp_path / "w"))
    assert main(["weights", "fetch", "--no-progress"]) == 0
    assert (tmp_path / "w" / "resnet18-imagenet.npz").exists()


def test_fetch_offline_fails_in_one_line(tmp_path, capsys):
    url = closed_port_url()
    assert main(["weights", "fetch", "resnet18", "--url", url, "--dir", str(tmp_path)]) == 2
    err = one_line_error(capsys)
    assert "cannot download" in err
    assert f"minitune weights convert resnet18-f37072fd.pth {tmp_path / 'resnet18-imagenet.npz'}" in err
    assert list(tmp_path.iterdir()) == []


def test_fetch_hash_mismatch_keeps_nothing(server, imagenet_like, tmp_path, capsys):
    blob, _ = imagenet_like
    server.files["/resnet18-00000000.pth"] = blob
    out = tmp_path / "weights"
    assert main(["weights", "fetch", "--url", f"{server.url}/resnet18-00000000.pth", "--dir", str(out),
                 "--no-progress"]) == 2
    assert "invalid hash value" in one_line_error(capsys)
    assert list(out.iterdir()) == []


def test_convert_export_info(tmp_path, capsys):
    src = REFERENCE / "weights_resnet18w4_legacy.pth"
    assert main(["weights", "convert", str(src), str(tmp_path / "w.npz")]) == 0
    assert "resnet18, 10 classes, 45,102 parameters" in capsys.readouterr().out
    assert main(["weights", "export", str(tmp_path / "w.npz"), str(tmp_path / "w.pth")]) == 0
    back, expected = load_state_dict(tmp_path / "w.pth"), load_state_dict(src)
    assert list(back) == list(expected)
    for key in expected:
        np.testing.assert_array_equal(back[key], expected[key])
    capsys.readouterr()
    assert main(["weights", "info", str(tmp_path / "w.npz")]) == 0
    out = capsys.readouterr().out
    assert "architecture: resnet18" in out and "parameters:   45,102" in out and "keys:         122" in out
    assert "conv1.weight" in out and "[4, 3, 7, 7]" in out and "102 more" in out and "sha256:" in out
    assert main(["weights", "info", "--all-keys", str(src)]) == 0
    assert "fc.bias" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["weights", "convert", "/no/such.pth", "x.npz"], "no such weights file"),
    (["weights", "info", "/no/such.pth"], "no such weights file"),
    (["weights", "convert", str(REFERENCE / "weights_mixed_zip.pth"), "x.npz"], "not a ResNet-18"),
])
def test_user_errors_are_one_line(capsys, argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "x.npz").exists()


def test_hostile_file_is_refused_by_the_cli(tmp_path, capsys):
    import os
    import pickle

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'pwned'}",)

    stream = [0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, Evil()]  # a legacy-stream header, then code
    (tmp_path / "evil.pth").write_bytes(b"".join(pickle.dumps(p, protocol=2, fix_imports=False) for p in stream))
    assert main(["weights", "info", str(tmp_path / "evil.pth")]) == 2
    assert "global posix.system is not allowed" in one_line_error(capsys)
    assert not (tmp_path / "pwned").exists()


def test_weights_without_action_is_a_one_line_error(capsys):
    assert main(["weights"]) == 2
    assert "no action given; choose one of: fetch, convert, export, info" in one_line_error(capsys)


@pytest.mark.parametrize("name", ["w.pth", "w.npz"])
@pytest.mark.parametrize("action", [["info"], ["convert"], ["export"]])
def test_a_fifo_is_refused_without_blocking(tmp_path, capsys, name, action):
    """Opening a FIFO for reading blocks until a writer comes: it is refused before it is opened."""
    import os
    os.mkfifo(tmp_path / name)
    argv = ["weights", *action, str(tmp_path / name)] + ([] if action == ["info"] else [str(tmp_path / "out.npz")])
    assert main(argv) == 2
    assert "not a regular file" in one_line_error(capsys)
