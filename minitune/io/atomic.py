"""Atomic file writes: a file appears complete under its name, or not at all."""
import contextlib
import os
import tempfile


def _default_mode():
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path, suffix=".partial"):
    """Yield a binary file in ``path``'s folder; when the block ends normally it is renamed over
    ``path`` (with a new file's usual permissions), and on any exception, Ctrl-C included, it is
    deleted, so no partial file is ever left under ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
