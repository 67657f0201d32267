"""Edit, check and run the notebooks, with or without Jupyter.

The ``.ipynb`` files in ``notebooks/`` are the only copy, stored without outputs, as nbformat 4.5
(every cell has an ``id``).  To edit one as plain text:
``python tools/notebook.py export notebooks/01_autograd.ipynb > nb.py`` gives a percent-format script
(``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose lines start with ``# ``);
``python tools/notebook.py build nb.py notebooks/01_autograd.ipynb`` writes it back, with cell ids.

``python tools/notebook.py run NB...`` executes notebooks the way the test suite does
(``run_notebook``: every code cell in order, in one namespace, from the notebook's folder, as
Jupyter does).  ``python tools/notebook.py jupyter NB...`` executes them in a real Jupyter kernel
(needs ``nbclient`` and ``ipykernel``) and prints each one's time; the executed copies go to
``notebooks/notebook_outputs/executed/`` (git-ignored), never over the stored notebooks.
``python tools/notebook.py check NB...`` checks the nbformat 4.5 rules (``schema_problems``).

A notebook writes its files under ``$MINITUNE_NOTEBOOK_OUT`` (default ``notebooks/notebook_outputs``,
git-ignored).  ``MINITUNE_NOTEBOOK_QUICK=1`` asks the notebooks for their small settings (the test suite
sets it; notebook 05 then trains fewer epochs on fewer images and says so).
"""
import json
import os
import pathlib
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
CELL_KEYS = {"markdown": {"id", "cell_type", "metadata", "source", "attachments"},
             "code": {"id", "cell_type", "metadata", "source", "execution_count", "outputs"},
             "raw": {"id", "cell_type", "metadata", "source", "attachments"}}


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
    """nbformat 4.5: cell ids ``cell-01``, ``cell-02``, … by position (stable when a notebook is rebuilt)."""
    nb_cells = []
    for i, (kind, src) in enumerate(cells, 1):
        lines = src.splitlines(keepends=True)
        cell = {"cell_type": kind, "id": f"cell-{i:02d}", "metadata": {}, "source": lines}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    return {"cells": nb_cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                            "name": "python3"},
                                             "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def schema_problems(nb):
    """What breaks nbformat 4.5's schema in ``nb`` (a dict from the JSON), as a list of sentences.

    Checks the rules that matter for these notebooks without the ``nbformat`` package: version 4.5,
    the top-level keys, each cell's required and allowed keys, a unique ``id`` matching
    ``^[a-zA-Z0-9-_]{1,64}$``, ``source`` a string or a list of strings, code cells' ``outputs`` a list
    and ``execution_count`` null or an integer."""
    problems = []
    if (nb.get("nbformat"), nb.get("nbformat_minor")) != (4, 5):
        problems.append(f"nbformat {nb.get('nbformat')}.{nb.get('nbformat_minor')}, expected 4.5")
    extra = set(nb) - {"cells", "metadata", "nbformat", "nbformat_minor"}
    if extra or not isinstance(nb.get("metadata"), dict) or not isinstance(nb.get("cells"), list):
        problems.append(f"top-level keys {sorted(nb)}: expected cells (list), metadata (dict), nbformat, nbformat_minor")
    seen = set()
    for i, cell in enumerate(nb.get("cells", [])):
        kind = cell.get("cell_type")
        if kind not in CELL_KEYS:
            problems.append(f"cell {i}: cell_type {kind!r}")
            continue
        required = CELL_KEYS[kind] - {"attachments"}
        if set(cell) - CELL_KEYS[kind] or required - set(cell):
            problems.append(f"cell {i}: keys {sorted(cell)}, expected {sorted(required)}")
        cid = cell.get("id")
        if not isinstance(cid, str) or not CELL_ID.match(cid):
            problems.append(f"cell {i}: id {cid!r} does not match {CELL_ID.pattern}")
        elif cid in seen:
            problems.append(f"cell {i}: duplicate id {cid!r}")
        seen.add(cid)
        src = cell.get("source")
        if not (isinstance(src, str) or (isinstance(src, list) and all(isinstance(s, str) for s in src))):
            problems.append(f"cell {i}: source must be a string or a list of strings")
        if not isinstance(cell.get("metadata"), dict):
            problems.append(f"cell {i}: metadata must be a dict")
        if kind == "code":
            if not isinstance(cell.get("outputs"), list):
                problems.append(f"cell {i}: outputs must be a list")
            ec = cell.get("execution_count")
            if ec is not None and not (isinstance(ec, int) and ec >= 0):
                problems.append(f"cell {i}: execution_count must be null or a non-negative integer")
    return problems


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
    """Execute every code cell of ``path`` in order, from the notebook's folder (as Jupyter does);
    raises on the first error, naming the cell."""
    path = pathlib.Path(path).resolve()
    nb = json.loads(path.read_text(encoding="utf-8"))
    ns = {"__name__": "__main__"} if namespace is None else namespace
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            if cell.get("outputs"):
                raise ValueError(f"{path}: cell {i} has stored outputs; notebooks are kept without outputs")
            src = "".join(cell["source"])
            try:
                exec(compile(src, f"{path.name}[cell {i}]", "exec"), ns)
            except Exception as exc:
                raise RuntimeError(f"{path}: code cell {i} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        os.chdir(cwd)
    return ns


def run_in_jupyter(path, timeout=1800):
    """Execute ``path`` in a fresh ipykernel with nbclient; write the executed copy under
    ``notebooks/notebook_outputs/executed/``; return the seconds it took."""
    import nbclient
    import nbformat

    path = pathlib.Path(path).resolve()
    nb = nbformat.read(str(path), as_version=4)
    t0 = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - t0
    out = path.parent / "notebook_outputs" / "executed"
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out / path.name))
    return seconds


if __name__ == "__main__":
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "build":
        build(*args)
    elif command == "export":
        sys.stdout.write(export(args[0]))
    elif command == "run":
        for p in args:
            t = time.perf_counter()
            run_notebook(p)
            print(f"ran {p} in {time.perf_counter() - t:.1f} s")
    elif command == "jupyter":
        for p in args:
            print(f"executed {p} in a Jupyter kernel in {run_in_jupyter(p):.1f} s", flush=True)
    elif command == "check":
        bad = {p: schema_problems(json.loads(pathlib.Path(p).read_text(encoding="utf-8"))) for p in args}
        for p, problems in bad.items():
            print(f"{p}: " + ("; ".join(problems) if problems else "valid nbformat 4.5"))
        sys.exit(1 if any(bad.values()) else 0)
    else:
        sys.exit("usage: notebook.py build SRC.py OUT.ipynb | export NB.ipynb | run NB... | jupyter NB... | check NB...")
