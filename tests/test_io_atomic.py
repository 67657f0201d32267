"""atomic_write: complete file or nothing, with ordinary permissions."""
import os
import stat

import pytest

from minitune.io.atomic import atomic_write

pytestmark = pytest.mark.weights


def test_writes_with_ordinary_permissions(tmp_path):
    path = tmp_path / "out.bin"
    with atomic_write(path) as fh:
        fh.write(b"abc")
    assert path.read_bytes() == b"abc"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_leaves_nothing_behind(tmp_path, error):
    path = tmp_path / "out.bin"
    with pytest.raises(error):
        with atomic_write(path) as fh:
            fh.write(b"partial")
            raise error
    assert list(tmp_path.iterdir()) == []
