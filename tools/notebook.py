"""Edit, build and run the notebooks without Jupyter.

The ``.ipynb`` files in ``notebooks/`` are the only copy, stored without outputs.  To edit one
as plain text: ``python tools/notebook.py export notebooks/01_autograd.ipynb > nb.py`` gives a
percent-format script (``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose
lines start with ``# ``); ``python tools/notebook.py build nb.py notebooks/01_autograd.ipynb``
writes it back.  ``python tools/notebook.py run NB...`` executes notebooks the way the test
suite does (``run_notebook``: every code cell in order, in one namespace).
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse_percent(text):
    cells, kind, buf = [], None, []

    def flush():
        if kind is None:
            return
        lines = list(buf)
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        if lines:
            cells.append((kind, "\n".join(lines)))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, buf = ("markdown" if "[markdown]" in line else "code"), []
        else:
            buf.append(line)
    flush()
    return cells


def to_ipynb(cells):
    nb_cells = []
    for kind, src in cells:
        lines = src.splitlines(keepends=True)
        cell = {"cell_type": kind, "metadata": {}, "source": lines}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    return {"cells": nb_cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                            "name": "python3"},
                                             "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def build(src, out):
    nb = to_ipynb(parse_percent(pathlib.Path(src).read_text(encoding="utf-8")))
    pathlib.Path(out).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def export(path):
    nb = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append("# %% [markdown]\n" + "\n".join(("# " + ln) if ln else "#" for ln in src.splitlines()))
        else:
            parts.append("# %%\n" + src)
    return "\n\n".join(parts) + "\n"


def run_notebook(path, namespace=None):
    """Execute every code cell of ``path`` in order; raises on the first error, naming the cell."""
    nb = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    ns = {"__name__": "__main__"} if namespace is None else namespace
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("outputs"):
            raise ValueError(f"{path}: cell {i} has stored outputs; notebooks are kept without outputs")
        src = "".join(cell["source"])
        try:
            exec(compile(src, f"{pathlib.Path(path).name}[cell {i}]", "exec"), ns)
        except Exception as exc:
            raise RuntimeError(f"{path}: code cell {i} failed: {type(exc).__name__}: {exc}") from exc
    return ns


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "build":
        build(*args)
    elif command == "export":
        sys.stdout.write(export(args[0]))
    elif command == "run":
        for p in args:
            run_notebook(p)
            print(f"ran {p}")
    else:
        sys.exit("usage: notebook.py build SRC.py OUT.ipynb | export NB.ipynb | run NB.ipynb...")
