"""``minitune.backends.mps``: Apple's GPU backend is not available (minitune runs on the CPU)."""


def is_available():
    return False


def is_built():
    return False
