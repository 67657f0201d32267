"""``no_grad`` / ``enable_grad``: switch graph recording off and on.

Both work as context managers and as decorators, as in torch.
"""
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return getattr(_state, "enabled", True)


def set_grad_enabled(mode):
    _state.enabled = bool(mode)


class _GradMode:
    enabled = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        set_grad_enabled(self.enabled)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._prev)
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
