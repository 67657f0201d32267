"""``no_grad`` / ``enable_grad`` / ``set_grad_enabled``: switch graph recording off and on.

All three work as context managers, and ``no_grad``/``enable_grad`` as decorators, as in
torch.  ``set_grad_enabled(mode)`` also works as a plain call: it switches the mode at once
(``set_grad_enabled(False)`` turns recording off until ``set_grad_enabled(True)``), and used
as ``with set_grad_enabled(phase == "train"):`` it restores the previous mode on exit.
"""
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return getattr(_state, "enabled", True)


def _set_enabled(mode):
    _state.enabled = bool(mode)


class _GradMode:
    enabled = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self.enabled)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Context manager and decorator: results computed inside do not require grad."""

    enabled = False


class enable_grad(_GradMode):
    """Context manager and decorator: turn recording back on inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled:
    """``set_grad_enabled(mode)``: recording on (True) or off (False) from now on; as a context
    manager, only inside the ``with`` block (the mode before the call comes back on exit)."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled expects a bool, got {type(mode).__name__}")
        self._prev = is_grad_enabled()
        self.mode = mode
        _set_enabled(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False

    def __repr__(self):
        return f"minitune.set_grad_enabled(mode={self.mode})"
