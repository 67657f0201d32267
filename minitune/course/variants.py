"""Solutions written by hand as test data of the course tool (``variants/*.txt``; instructor-only).

Each file is the body of one task's region, unindented, after a header::

    # task: A4 SGD.step
    # kind: wrong            (or: correct)
    # mistake: the classic mistake it makes
    # caught by: the hidden case that must fail on it

``kind: correct`` files are other correct solutions (plain numpy, no ``fused.fma``) that must get full
marks; ``kind: wrong`` ones must lose points, through the hidden case named.  ``put_variant`` writes
one into a student copy, as a student would, between the task's markers.
"""
import pathlib
from dataclasses import dataclass

from .markers import find_regions

FOLDER = pathlib.Path(__file__).resolve().parent / "variants"


@dataclass
class Variant:
    name: str
    task: str
    kind: str
    mistake: str
    caught_by: str
    body: str


def load_variant(path):
    path = pathlib.Path(path)
    header, body = {}, []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not body and line.startswith("# ") and ":" in line:
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
        else:
            body.append(line)
    return Variant(path.stem, header["task"], header.get("kind", "wrong"), header.get("mistake", header.get("about", "")),
                   header.get("caught by", ""), "".join(body))


def variants(kind=None):
    found = [load_variant(p) for p in sorted(FOLDER.glob("*.txt"))]
    return [v for v in found if kind is None or v.kind == kind]


def put_variant(copy_root, task, body):
    """Replace the region(s) of ``task`` (a ``Task``) in the copy with ``body`` (the first region gets it all)."""
    path = pathlib.Path(copy_root) / task.file
    text = path.read_text(encoding="utf-8")
    regions = [r for r in find_regions(path, text) if r.assignment == task.assignment and r.function == task.function]
    lines = text.splitlines(keepends=True)
    first = regions[0]
    indented = "".join(first.indent + line if line.strip() else line for line in body.splitlines(keepends=True))
    out = lines[:first.begin] + [indented] + lines[first.end - 1:]
    path.write_text("".join(out), encoding="utf-8")
