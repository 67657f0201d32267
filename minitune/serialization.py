"""``minitune.save`` / ``minitune.load``: torch's ``torch.save`` / ``torch.load`` at the top level.

Both wrap ``minitune.io`` (which reads and writes torch's own zip format without torch, and
refuses pickles that would run code).  What differs from ``minitune.io.load``: arrays come
back as **Tensors**, so ``model.load_state_dict(minitune.load(path))`` and
``checkpoint["model"]["fc.weight"].shape`` behave as with torch.

* ``weights_only`` is accepted; minitune always loads as torch's ``weights_only=True`` does
  (tensors, dicts, lists, tuples, numbers, strings — never arbitrary objects), so
  ``weights_only=False`` cannot load more here and raises ``ValueError`` when the file needs it.
* ``map_location`` may be None, ``"cpu"`` or ``minitune.device("cpu")``; tensors are always on the CPU.
* ``minitune.save`` writes dicts / lists / tuples of Tensors, arrays, numbers and strings (a
  ``state_dict``, an optimizer's ``state_dict``, a checkpoint dict); the file loads in torch.
"""
import collections

import numpy as np

from .autograd.devices import check_device
from .autograd.tensor import Tensor


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True):
    """``torch.save(obj, f)``: write ``obj`` to the path ``f`` in torch's zip format (atomically)."""
    from .io import save as io_save  # io is only needed when a file is written

    if pickle_module is not None or not _use_new_zipfile_serialization:
        raise ValueError("minitune.save writes torch's zip format with its own pickler; "
                         "pickle_module and the legacy format are not supported")
    io_save(obj, f)


def _to_tensors(obj):
    """Every ndarray inside ``obj`` (dicts, lists, tuples) as a Tensor; an OrderedDict keeps ``_metadata``."""
    if isinstance(obj, np.ndarray):
        return Tensor(obj)
    if isinstance(obj, dict):
        out = type(obj)((k, _to_tensors(v)) for k, v in obj.items()) if isinstance(obj, collections.OrderedDict) \
            else {k: _to_tensors(v) for k, v in obj.items()}
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata
        return out
    if isinstance(obj, list):
        return [_to_tensors(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_to_tensors(v) for v in obj)
    return obj


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """``torch.load(f)``: the object saved in ``f`` (a path or a binary file), with Tensors for arrays."""
    from .io import load as io_load  # io is only needed when a file is read

    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        check_device(map_location, "minitune.load(map_location=)")
    if pickle_module is not None:
        raise ValueError("minitune.load reads with its own restricted unpickler; pickle_module is not supported")
    return _to_tensors(io_load(f))
