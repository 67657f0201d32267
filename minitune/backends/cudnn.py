"""``minitune.backends.cudnn``: torch's cuDNN flags, kept as plain attributes; minitune has no cuDNN.

``benchmark`` and ``deterministic`` may be set (scripts do) and are ignored: minitune's kernels are
deterministic on the CPU whatever they say.
"""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
