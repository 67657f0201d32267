"""Download a weight file the way ``torch.hub.download_url_to_file`` does: checked, atomic, with progress.

* **Hash check** (``torch/hub.py``): the file name carries a prefix of the file's sha256,
  ``HASH_REGEX = r"-([a-f0-9]*)\\."`` — ``resnet18-f37072fd.pth`` must hash to ``f37072fd…``.
  A name without one is not checked (as in torch.hub).
* **Atomic**: bytes go to a temporary file in the destination's folder, renamed over the
  destination only after the hash matched.  Any failure — network error, hash mismatch, Ctrl-C —
  removes the temporary file, so nothing half-written is ever left behind.
* **Progress**: a one-line bar on stderr.
* **Offline**: a network failure raises :class:`DownloadError` (an ``OSError``) whose message is one
  line telling how to download the file by hand and convert it.

The weights folder (:func:`weights_dir`): ``$MINITUNE_WEIGHTS_DIR`` if set; else ``weights/`` at
the repository root when minitune runs from a checkout (a ``setup.cfg`` beside the package);
else ``~/.cache/minitune/weights``.
"""
import hashlib
import http.client
import os
import pathlib
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

from .atomic import atomic_write

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")  # torch/hub.py
URL_ENV = "MINITUNE_WEIGHTS_URL"
DIR_ENV = "MINITUNE_WEIGHTS_DIR"
CHUNK = 1 << 16

# torchvision ResNet18_Weights.IMAGENET1K_V1 (torchvision/models/resnet.py)
PRETRAINED = {
    "resnet18": {
        "url": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
        "converted": "resnet18-imagenet.npz",
        "num_params": 11689512,
        "metrics": {"ImageNet-1K": {"acc@1": 69.758, "acc@5": 89.078}},
        "recipe": "https://github.com/pytorch/vision/tree/main/references/classification#resnet",
    },
}


class DownloadError(OSError):
    """The file could not be downloaded (network unreachable, HTTP error, interrupted transfer)."""


class HashMismatchError(ValueError):
    """The downloaded bytes do not hash to the prefix in the file name; nothing was kept."""


def weights_dir():
    """The folder for downloaded and converted weights (see the module docstring)."""
    if os.environ.get(DIR_ENV):
        return pathlib.Path(os.environ[DIR_ENV]).expanduser()
    root = pathlib.Path(__file__).resolve().parents[2]
    if (root / "setup.cfg").is_file() and (root / "minitune").is_dir():
        return root / "weights"
    return pathlib.Path.home() / ".cache" / "minitune" / "weights"


def converted_path(arch="resnet18"):
    """Where ``minitune weights fetch ARCH`` puts the converted ImageNet weights."""
    if arch not in PRETRAINED:
        raise ValueError(f"no ImageNet weights are known for {arch!r}; known: {sorted(PRETRAINED)}")
    return weights_dir() / PRETRAINED[arch]["converted"]


def hash_prefix(url):
    """The sha256 prefix in the URL's file name, or None (torch.hub's ``check_hash`` rule)."""
    match = HASH_REGEX.search(os.path.basename(urllib.parse.urlparse(url).path))
    return match.group(1) if match else None


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manual_hint(url, arch="resnet18", target=None):
    """The one-line recipe for machines without network."""
    name = os.path.basename(urllib.parse.urlparse(url).path) or "WEIGHTS.pth"
    if target is None:
        target = weights_dir() / PRETRAINED.get(arch, {"converted": f"{arch}-imagenet.npz"})["converted"]
    return (f"download {url} by hand on a machine with network, copy {name} here and run: "
            f"minitune weights convert {name} {_display(target)}")


def _display(path):
    try:
        return str(pathlib.Path(path).resolve().relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(path)


class _ProgressBar:
    def __init__(self, name, total, stream):
        self.name, self.total, self.stream, self.done = name, total, stream, 0

    def update(self, n):
        self.done += n
        mib = self.done / 2 ** 20
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(30 * frac)
            line = f"\r{self.name} {frac:4.0%} |{bar:<30}| {mib:.1f}/{self.total / 2 ** 20:.1f} MiB"
        else:
            line = f"\r{self.name} {mib:.1f} MiB"
        self.stream.write(line)
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


def download(url, dst, *, check_hash=True, progress=True, timeout=60, arch="resnet18", convert_to=None):
    """Download ``url`` to ``dst`` atomically; return ``(path, sha256 hex)``.

    Raises :class:`DownloadError` (one line, with the manual recipe) on a network failure and
    :class:`HashMismatchError` if ``check_hash`` and the sha256 does not start with the file name's prefix.
    ``convert_to`` is the ``.npz`` named in the offline recipe (default: the weights folder's)."""
    dst = pathlib.Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    expected = hash_prefix(url) if check_hash else None
    bar = None
    try:
        digest = hashlib.sha256()
        with atomic_write(dst) as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - http(s) URL given by the user
            except ValueError as exc:  # unknown URL type
                raise DownloadError(f"cannot download {url}: {exc}") from None
            with response:
                total = int(response.headers.get("Content-Length") or 0)
                bar = _ProgressBar(dst.name, total, sys.stderr) if progress else None
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    if bar:
                        bar.update(len(chunk))
                if total and out.tell() != total:
                    raise DownloadError(f"download of {url} stopped after {out.tell()} of {total} bytes")
            hexdigest = digest.hexdigest()
            if expected is not None and not hexdigest.startswith(expected):
                raise HashMismatchError(f"invalid hash value for {url} (expected \"{expected}\", got \"{hexdigest}\"); "
                                        "the download was deleted")
        return dst, hexdigest
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        if isinstance(exc, DownloadError):
            raise
        reason = getattr(exc, "reason", None) or exc
        if isinstance(exc, urllib.error.HTTPError):
            reason = f"HTTP {exc.code} {exc.reason}"
        raise DownloadError(f"cannot download {url} ({reason}); {manual_hint(url, arch, convert_to)}") from None
    finally:
        if bar:
            bar.close()
