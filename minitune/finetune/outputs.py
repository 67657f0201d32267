"""The output folder of a run: never overwritten silently, never left empty, its size said.

* Without ``--out``, a run goes to ``runs/finetune``, or the first of ``runs/finetune-2``,
  ``-3``, … that does not exist yet (ultralytics' rule), so two runs leave two folders.
* ``--out DIR`` that already holds a run (a ``state.npz`` or ``metrics.json``) is refused unless
  ``--overwrite`` — or unless it is the folder ``--resume`` continues.
* A run that fails before writing anything removes the folder it created (``RunFolder`` is a
  context manager); a folder that already existed is never removed.
* ``describe(folder)`` lists what a run wrote, with sizes, for the last line of the run.
"""
import os

DEFAULT_ROOT, DEFAULT_NAME = "runs", "finetune"
RUN_MARKERS = ("state.npz", "metrics.json")


def next_free(root=DEFAULT_ROOT, name=DEFAULT_NAME):
    """``root/name``, else ``root/name-2``, ``root/name-3``, … — the first that does not exist."""
    path = os.path.join(root, name)
    k = 2
    while os.path.exists(path):
        path = os.path.join(root, f"{name}-{k}")
        k += 1
    return path


def holds_run(folder):
    return any(os.path.exists(os.path.join(folder, m)) for m in RUN_MARKERS)


def choose_folder(out, resume=None, overwrite=False):
    """The folder a run writes to (see the module docstring); ValueError for a refused ``out``."""
    if out is None:
        return resume if resume else next_free()
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out} is a file, not a folder")
    same_as_resume = resume is not None and os.path.abspath(out) == os.path.abspath(resume)
    if holds_run(out) and not (overwrite or same_as_resume):
        raise ValueError(f"--out {out} already holds a run; choose another folder, leave out --out "
                         "(a new runs/finetune-N is picked), or add --overwrite")
    return out


class RunFolder:
    """``with RunFolder(path) as out:`` creates ``path``; if the block fails (an exception, Ctrl-C
    before anything is saved) and the folder it created is still empty, it is removed."""

    def __init__(self, path):
        self.path = path
        self.created = False

    def __enter__(self):
        self.created = not os.path.exists(self.path)
        os.makedirs(self.path, exist_ok=True)
        return self.path

    def __exit__(self, exc_type, exc, tb):
        self.remove_if_empty()
        return False

    def remove_if_empty(self):
        if self.created and os.path.isdir(self.path) and not os.listdir(self.path):
            os.rmdir(self.path)


def _size(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n} B"


def describe(folder):
    """One line: every file of ``folder`` with its size, and the total."""
    names = sorted(n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n)))
    sizes = {n: os.path.getsize(os.path.join(folder, n)) for n in names}
    listing = ", ".join(f"{n} {_size(s)}" for n, s in sizes.items())
    return f"wrote {folder}: {listing} — {_size(sum(sizes.values()))} in all"
