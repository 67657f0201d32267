"""Downloading weights: hash check, atomic write, progress, and the one-line offline failure.

Every download goes to a local ``http.server`` on 127.0.0.1 (a thread, port 0)."""
import hashlib
import http.server
import pathlib
import socket
import threading

import pytest

from minitune.io import fetch
from minitune.io.fetch import DownloadError, HashMismatchError, download, hash_prefix, weights_dir

pytestmark = pytest.mark.weights

PAYLOAD = bytes(range(256)) * 1000  # 256 kB, several chunks
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """Serves ``files`` (path -> bytes); ``/short/...`` promises more bytes than it sends."""

    def __init__(self):
        self.files, self.hits = {}, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                name = self.path.split("?")[0]
                body = outer.files.get(name.replace("/short", "", 1))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (1000 if name.startswith("/short") else 0)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def closed_port_url(name="resnet18-f37072fd.pth"):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


@pytest.mark.parametrize("url, prefix", [
    ("https://download.pytorch.org/models/resnet18-f37072fd.pth", "f37072fd"),
    ("https://download.pytorch.org/models/resnet18-5c106cde.pth", "5c106cde"),
    ("http://h/x/resnet18-f37072fd.pth?download=1", "f37072fd"),
    ("http://h/weights.pth", None),
    ("http://h/resnet-18.pth", "18"),  # torch.hub's regex, applied as torch applies it
    ("http://h/model-final.pth", None),
    ("http://h/model-.pth", ""),  # [a-f0-9]* also matches nothing: checks nothing, as in torch
])
def test_hash_prefix(url, prefix):
    assert hash_prefix(url) == prefix


def test_download_checks_hash_and_shows_progress(server, tmp_path, capsys):
    server.files[f"/w-{SHA[:8]}.pth"] = PAYLOAD
    path, digest = download(f"{server.url}/w-{SHA[:8]}.pth", tmp_path / "w.pth")
    assert path.read_bytes() == PAYLOAD and digest == SHA
    assert "100% |" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["w.pth"]


def test_hash_mismatch_leaves_nothing(server, tmp_path):
    server.files["/w-deadbeef.pth"] = PAYLOAD
    with pytest.raises(HashMismatchError, match=f'expected "deadbeef", got "{SHA}"'):
        download(f"{server.url}/w-deadbeef.pth", tmp_path / "w.pth", progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path, message", [
    ("/short/w.pth", "stopped after 256000 of 257000 bytes"),
    ("/missing-0123.pth", r"cannot download .* \(HTTP 404 Not Found\)"),
])
def test_failed_transfer_leaves_nothing(server, tmp_path, path, message):
    server.files["/w.pth"] = PAYLOAD
    with pytest.raises(DownloadError, match=message):
        download(server.url + path, tmp_path / "w.pth", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_interrupt_leaves_nothing(server, tmp_path, monkeypatch):
    """Ctrl-C in the middle of the transfer: the temporary file goes, the KeyboardInterrupt goes on."""
    server.files["/w.pth"] = PAYLOAD

    def interrupt(self, n):
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch._ProgressBar, "update", interrupt)
    with pytest.raises(KeyboardInterrupt):
        download(server.url + "/w.pth", tmp_path / "w.pth")
    assert list(tmp_path.iterdir()) == []


def test_offline_is_one_line_with_the_manual_recipe(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(DownloadError) as info:
        download(closed_port_url(), tmp_path / "resnet18-f37072fd.pth", progress=False)
    message = str(info.value)
    assert "\n" not in message and "cannot download" in message
    assert f"minitune weights convert resnet18-f37072fd.pth {tmp_path / 'resnet18-imagenet.npz'}" in message
    assert list(tmp_path.iterdir()) == []


def test_weights_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(tmp_path / "w"))
    assert weights_dir() == tmp_path / "w"
    monkeypatch.delenv("MINITUNE_WEIGHTS_DIR")
    root = pathlib.Path(__file__).resolve().parents[1]
    assert weights_dir() == root / "weights"  # running from a checkout


def test_known_weights_are_torchvisions():
    entry = fetch.PRETRAINED["resnet18"]
    assert entry["url"] == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert entry["num_params"] == 11689512 and entry["converted"] == "resnet18-imagenet.npz"
