"""minitune.io: PyTorch checkpoints without torch, and minitune's converted ``.npz`` weights.

numpy only; nothing here imports the rest of minitune, so ``minitune.models`` can use it.

* :func:`load` / :func:`load_state_dict` — read any ``torch.save`` file (zip, legacy stream,
  legacy tar) through a restricted unpickler; tensors come back as numpy arrays.  Any problem
  with the file raises :class:`CheckpointError` (a ``ValueError``; :class:`UnsafePickleError`
  for a hostile pickle) naming the file; ``max_bytes=`` bounds the memory a file may claim.
* :func:`save` — write a state_dict as a zip ``.pth`` that ``torch.load(weights_only=True)`` reads.
* :func:`save_converted` / :func:`load_converted` — the ``.npz`` format with metadata.
* :func:`convert`, :func:`export`, :func:`describe`, :func:`fetch_pretrained` — what
  ``minitune weights convert|export|info|fetch`` run.
"""
from .convert import (convert, describe, detect_architecture, export, fetch_pretrained,  # noqa: F401
                      read_weights, resnet_keys)
from .fetch import DownloadError, HashMismatchError, converted_path, download, weights_dir  # noqa: F401
from .imagenet_classes import IMAGENET_CATEGORIES  # noqa: F401
from .npz_format import load_converted, save_converted  # noqa: F401
from .torch_reader import find_state_dict, load, load_state_dict  # noqa: F401
from .torch_writer import save  # noqa: F401
from .unpickler import CheckpointError, UnsafePickleError  # noqa: F401
