"""``device``: where a tensor lives.  minitune computes on the CPU only.

``minitune.device("cpu")`` (also ``"cpu:0"``, ``device("cpu", 0)``) is accepted wherever torch takes a
device — ``Tensor.to``, ``Module.to``, ``device=`` of the constructors — and changes nothing.
``device("cuda")`` can be *named*, as in torch (``device("cuda:0" if cuda.is_available() else "cpu")``
is the usual idiom), but moving a tensor there raises a ``RuntimeError`` that says minitune has
no GPU backend.  A ``device`` is a ``str`` subclass, so ``device("cpu") == "cpu"``.
"""
_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta")


class device(str):  # noqa: N801 - torch's name
    """``device(type_or_string, index=None)``, e.g. ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 1)``."""

    def __new__(cls, type, index=None):  # noqa: A002 - torch's argument name
        if isinstance(type, device):
            return type
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string such as 'cpu', got {type.__class__.__name__}")
        kind, _, number = type.partition(":")
        if kind not in _KNOWN:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN)} device type at start of device string: {type}")
        if number:
            if index is not None:
                raise RuntimeError(f"device string {type!r} already has an index; do not pass index={index}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        text = kind if index is None else f"{kind}:{index}"
        self = super().__new__(cls, text)
        self.type, self.index = kind, index
        return self

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


def check_device(value, where):
    """Accept ``None`` and any CPU device; refuse every other device with a clear ``RuntimeError``."""
    if value is None:
        return CPU
    d = device(value) if isinstance(value, str) else None
    if d is None:
        raise TypeError(f"{where}: device must be a string or a minitune.device, got {type(value).__name__}")
    if d.type != "cpu":
        raise RuntimeError(f"{where}: minitune runs on the CPU only (there is no {d.type} backend), got device={str(d)!r}; "
                           "use 'cpu' or minitune.device('cpu')")
    return d
