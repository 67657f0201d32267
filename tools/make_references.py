"""Write the PyTorch reference fixtures under ``tests/reference/``.

Needs torch 2.13.0 (``pip install -e .[reference]``); nothing at run time or test time imports torch.

Each layer keeps its cases in ``tools/references/<layer>.py``; that module defines
``make(save)`` and calls ``save(name, **arrays)`` once per fixture.  ``save`` writes
``tests/reference/<layer>_<name>.npz`` deterministically: every case seeds its own
generator, and the ``.npz`` is written with a fixed timestamp so that rerunning the
tool gives byte-identical files.

Usage::

    python tools/make_references.py            # every layer
    python tools/make_references.py optim nn   # some layers
"""
import importlib
import io
import pathlib
import sys
import zipfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "reference"
LAYERS = ["autograd", "kernels", "nn", "optim", "weights", "torch_client"]


def write_npz(path, arrays):
    """``np.savez`` with a fixed zip timestamp and key order, so the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def main(argv):
    import torch

    if torch.__version__.split("+")[0] != "2.13.0":
        print(f"warning: references are made with torch 2.13.0, this is {torch.__version__}", file=sys.stderr)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "tools"))
    layers = argv or [p.stem for p in sorted((ROOT / "tools" / "references").glob("*.py")) if not p.stem.startswith("_")]
    for layer in layers:
        module = importlib.import_module(f"references.{layer}")
        count = 0

        def save(name, _layer=layer, **arrays):
            nonlocal count
            write_npz(OUT / f"{_layer}_{name}.npz", arrays)
            count += 1

        module.make(save)
        print(f"{layer}: {count} fixtures")


if __name__ == "__main__":
    main(sys.argv[1:])
