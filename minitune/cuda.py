"""``minitune.cuda``: there is no GPU backend, so ``is_available()`` is False, as torch's on a CPU-only machine.

Scripts written for torch pick their device with
``device = minitune.device("cuda:0" if minitune.cuda.is_available() else "cpu")`` and run on the CPU.
"""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Seeds nothing (no GPU); accepted so that torch's seeding lines run."""


def manual_seed_all(seed):
    """Seeds nothing (no GPU); accepted so that torch's seeding lines run."""


def synchronize(device=None):
    """Nothing to wait for on the CPU."""


def empty_cache():
    """No GPU memory to release."""
