"""ImageFolder on odd trees (issue 16.3): symlink cycles, non-regular files, non-UTF-8 class names."""
import os
import warnings

import pytest
from PIL import Image

from minitune.data import ImageFolder

pytestmark = pytest.mark.data


def tree(root, classes=("ants", "bees")):
    for name in classes:
        (root / name / "sub").mkdir(parents=True)
        Image.new("RGB", (4, 4), (1, 2, 3)).save(root / name / "a.png")
        Image.new("RGB", (4, 4), (4, 5, 6)).save(root / name / "sub" / "b.png")
    return root


def build(root):
    """ImageFolder(root) and the messages of the warnings it gave (a hang here is the bug itself)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = ImageFolder(root)
    return folder, [str(w.message) for w in caught]


@pytest.mark.parametrize("links", [
    {"ants/again": "."},                              # the loop
    {"ants/again": ".", "ants/sub/up": ".."},         # two loops: exponential walk before
    {"ants/l1": ".", "ants/l2": ".", "bees/l3": "../bees"},
])
def test_symlink_cycles_are_not_followed_and_warned_once(tmp_path, links):
    root = tree(tmp_path)
    for link, target in links.items():
        os.symlink(target, root / link)
    folder, caught = build(root)
    assert [os.path.relpath(p, root) for p, _ in folder.samples] == \
        ["ants/a.png", "ants/sub/b.png", "bees/a.png", "bees/sub/b.png"]
    assert len(caught) == 1 and f"did not follow {len(links)} symbolic link(s)" in caught[0]


def test_links_that_are_not_cycles_are_followed_as_torchvision(tmp_path):
    root = tree(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "elsewhere" / "c.png")
    os.symlink(tmp_path / "elsewhere", root / "bees" / "more")
    folder, caught = build(root)
    assert "bees/more/c.png" in [os.path.relpath(p, root) for p, _ in folder.samples] and caught == []


def test_fifo_named_jpg_is_skipped_without_hanging(tmp_path):
    root = tree(tmp_path)
    os.mkfifo(root / "ants" / "pipe.jpg")
    folder, caught = build(root)
    assert len(folder) == 4 and [os.path.basename(p) for p in folder.skipped] == ["pipe.jpg"]
    assert len(caught) == 1 and "pipe.jpg" in caught[0]


def test_skipped_warning_is_one_line_even_for_odd_names(tmp_path):
    root = tree(tmp_path)
    for i in range(8):
        (root / "ants" / f"bad\n{i}.jpg").write_bytes(b"not an image")
    _, caught = build(root)
    assert len(caught) == 1 and "\n" not in caught[0] and "(and 3 more)" in caught[0]


def test_non_utf8_class_name(tmp_path):
    root = tree(tmp_path, ("bees",))
    cafe = os.path.join(os.fsencode(root), b"caf\xe9")  # Latin-1 bytes: not valid UTF-8
    os.mkdir(cafe)
    Image.new("RGB", (4, 4)).save(os.fsdecode(os.path.join(cafe, b"x.png")))
    folder, _ = build(root)
    assert folder.classes == ["bees", os.fsdecode(b"caf\xe9")] and len(folder) == 3
    assert folder[2][1] == 1
