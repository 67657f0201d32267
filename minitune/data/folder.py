"""``ImageFolder``: one subfolder per class, as ``torchvision.datasets.ImageFolder`` reads it.

    root/ants/xxx.jpg   -> class 0        classes = sorted(subfolder names)
    root/bees/yyy.png   -> class 1        samples = [(path, class_index), ...]

The files taken are those whose lower-cased name ends with one of ``IMG_EXTENSIONS``
(torchvision's list: no .gif), found by a sorted ``os.walk`` of each class folder, so the
same tree gives the same samples in the same order as torchvision.

Differences from torchvision, to stop a scan from hanging or an epoch from crashing on one bad file:
- Symbolic links to folders are followed (as torchvision's ``os.walk(followlinks=True)``), but a
  link back to a folder on the current path (``ants/again -> .``) is a cycle: it is not entered,
  and ONE warning names such links (torchvision walks it until the path is too long, multiplying
  the samples; two such links make the walk exponential).
- Only regular files are samples: a FIFO, socket or device named ``x.jpg`` is left out (opening a
  FIFO blocks forever) and listed in ``skipped``.
- At construction every file is opened and ``verify()``-ed (header-level, about 0.2 ms
  a file); those Pillow cannot read are left out of ``samples`` and listed in ONE
  warning (one line: the first few paths) and in ``skipped``.  Pass ``check_images=False``
  to skip the check.
- A file that still fails later (truncated data, deleted meanwhile) is reported by a
  warning and replaced by the next readable sample, ``(index + 1) % len``; torchvision raises.
Class names are the folder names as ``os.scandir`` gives them (as torchvision): a name that is
not valid UTF-8 holds lone surrogates (``os.fsdecode``); print it with ``errors="replace"``.
Every image is converted to RGB by ``to_rgb``, which also scales 16-bit images.
"""
import os
import stat
import threading
import warnings

import numpy as np
from PIL import Image

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions=IMG_EXTENSIONS):
    """torchvision's test: ``filename.lower().endswith(extensions)``."""
    return filename.lower().endswith(tuple(extensions))


def to_rgb(img):
    """Any Pillow mode → mode "RGB", 8 bits a channel.

    - "RGB": unchanged.  "L", "1", "CMYK", "YCbCr", "P": ``img.convert("RGB")`` (as torchvision's loader).
    - Alpha ("RGBA", "LA", "PA", "P" with transparency) is dropped, not composited: the
      colour under a transparent pixel is kept, as ``convert("RGB")`` in torchvision does.
    - 16/32-bit integer modes ("I;16*", "I"): ``round(v / 257)`` clipped to [0, 255], so
      0..65535 maps onto 0..255 (``convert("RGB")`` would clip and give a white image).
    - "F" (float): values in [0, 1] are scaled by 255, others clipped to [0, 255].
    """
    if img.mode == "RGB":
        return img
    if img.mode.startswith("I") or img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if img.mode == "F" and arr.size and arr.max() <= 1.0:
            arr = arr * 255.0
        elif img.mode != "F":
            arr = arr / 257.0
        gray = np.clip(np.round(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2), "RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")  # Pillow warns on a direct P→RGB conversion with transparency
    if img.mode in ("LA", "PA"):
        img = img.convert("RGBA")
    return img.convert("RGB")


def pil_loader(path):
    """Open ``path`` and return its pixels as an RGB PIL image (decoded now, file closed)."""
    with Image.open(path) as img:
        img.load()
        return to_rgb(img)


default_loader = pil_loader


def _readable(path):
    """True when Pillow recognises the file and its header verifies (cheap: no full decode)."""
    try:
        with Image.open(path) as img:
            img.verify()
        return True
    except Exception:  # noqa: BLE001 - Pillow raises many types for a bad file
        return False


def find_classes(directory):
    """``(classes, class_to_idx)``: the sorted names of the subfolders of ``directory``."""
    directory = os.fspath(directory)
    if not os.path.exists(directory):
        raise FileNotFoundError(f"image folder root {directory!r} does not exist")
    if not os.path.isdir(directory):
        raise NotADirectoryError(f"image folder root {directory!r} is not a directory")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"found no class folder in {directory!r}; expected one subfolder per class")
    return classes, {name: i for i, name in enumerate(classes)}


def _walk(target_dir, cycles):
    """``[(folder, file names)]`` of ``os.walk(target_dir, followlinks=True)``, sorted, without
    entering a linked folder that is already on the current path (appended to ``cycles``)."""
    def key(path):
        st = os.stat(path)
        return st.st_dev, st.st_ino

    try:
        on_path = {os.path.join(target_dir, ""): (key(target_dir),)}
    except OSError:
        return []
    found = []
    for root, dirnames, fnames in os.walk(target_dir, followlinks=True):
        chain = on_path.pop(os.path.join(root, ""), ())
        kept = []
        for d in dirnames:
            path = os.path.join(root, d)
            try:
                k = key(path)
            except OSError:  # vanished, or a link loop the kernel reports (ELOOP)
                continue
            if k in chain:
                cycles.append(path)
            else:
                kept.append(d)
                on_path[os.path.join(path, "")] = chain + (k,)
        dirnames[:] = kept
        found.append((root, fnames))
    return sorted(found)


def _is_regular(path):
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:  # a broken link: Pillow will say it is unreadable
        return True


def make_dataset(directory, class_to_idx, is_valid_file=None, allow_empty=False, skipped=None, cycles=None):
    """``[(path, class_index), ...]``: sorted walk of each class folder, filtered by extension.

    Files that are not regular files (a FIFO named ``x.jpg``) go to the list ``skipped``, links
    that loop back to a folder on the path to the list ``cycles`` (when the lists are given)."""
    if is_valid_file is None:
        is_valid_file = has_file_allowed_extension
    skipped = [] if skipped is None else skipped
    cycles = [] if cycles is None else cycles
    samples, empty = [], []
    for name in sorted(class_to_idx):
        target_dir = os.path.join(directory, name)
        found = 0
        for root, fnames in _walk(target_dir, cycles):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    if not _is_regular(path):
                        skipped.append(path)
                        continue
                    samples.append((path, class_to_idx[name]))
                    found += 1
        if found == 0:
            empty.append(name)
    if empty and not allow_empty:
        raise FileNotFoundError(f"found no image file for the classes {empty} in {directory!r}; "
                                f"supported extensions are: {', '.join(IMG_EXTENSIONS)}")
    return samples


def _paths(paths, limit=5):
    """``'a', 'b', … (and 7 more)``: a one-line list (repr escapes newlines in names)."""
    shown = ", ".join(repr(p) for p in paths[:limit])
    return shown + (f" (and {len(paths) - limit} more)" if len(paths) > limit else "")


class ImageFolder:
    """A dataset of ``(image, class_index)`` read from ``root/<class>/<file>``.

    ``dataset[i]`` = ``(transform(loader(path)), target_transform(class_index))``.
    Attributes as torchvision: ``classes``, ``class_to_idx``, ``samples``, ``imgs``, ``targets``;
    plus ``skipped``, the unreadable files left out.
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty=False, check_images=True):
        self.root = os.fspath(root)
        self.transform, self.target_transform, self.loader = transform, target_transform, loader
        self.classes, self.class_to_idx = find_classes(self.root)
        self.skipped, cycles = [], []
        samples = make_dataset(self.root, self.class_to_idx, is_valid_file, allow_empty, self.skipped, cycles)
        if cycles:
            warnings.warn(f"ImageFolder({self.root!r}): did not follow {len(cycles)} symbolic link(s) that loop "
                          f"back to a parent folder: {_paths(cycles)}", stacklevel=2)
        if check_images:
            self.skipped += [path for path, _ in samples if not _readable(path)]
        if self.skipped:
            bad = set(self.skipped)
            samples = [s for s in samples if s[0] not in bad]
            warnings.warn(f"ImageFolder({self.root!r}): skipped {len(self.skipped)} file(s) that are not "
                          f"readable images: {_paths(self.skipped)}", stacklevel=2)
            present = {t for _, t in samples}
            unreadable_classes = [c for c, i in self.class_to_idx.items() if i not in present]
            if unreadable_classes and not allow_empty:
                raise FileNotFoundError(f"no readable image left for the classes {unreadable_classes} "
                                        f"in {self.root!r}")
        if not samples:
            raise FileNotFoundError(f"found no readable image in {self.root!r}")
        self.samples = samples
        self.imgs = self.samples
        self.targets = [t for _, t in samples]
        self._failed = set()
        self._lock = threading.Lock()

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for an ImageFolder of {len(self)} samples")
        index %= len(self)
        for attempt in range(len(self)):
            path, target = self.samples[(index + attempt) % len(self)]
            try:
                img = self.loader(path)
            except Exception as exc:  # noqa: BLE001 - keep the epoch going; report once per file
                with self._lock:
                    first = path not in self._failed
                    self._failed.add(path)
                if first:
                    warnings.warn(f"ImageFolder: cannot read {path!r} ({exc}); using the next sample instead",
                                  stacklevel=2)
                continue
            if self.transform is not None:
                img = self.transform(img)
            if self.target_transform is not None:
                target = self.target_transform(target)
            return img, target
        raise RuntimeError(f"ImageFolder({self.root!r}): no sample could be read")

    def __repr__(self):
        return (f"ImageFolder(root={self.root!r}, {len(self)} samples, classes={self.classes}, "
                f"transform={self.transform!r})")


def check_same_classes(train, val):
    """Raise ``ValueError`` unless ``train`` and ``val`` have the same class list (same order)."""
    a, b = list(train.classes), list(val.classes)
    if a != b:
        only_train = sorted(set(a) - set(b))
        only_val = sorted(set(b) - set(a))
        raise ValueError(f"train and val have different classes: train {a}, val {b} "
                         f"(only in train: {only_train}, only in val: {only_val})")
    return a
