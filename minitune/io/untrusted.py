"""Values read from an untrusted file, handled in bounded time and memory.

A pickle of a few hundred bytes can hold values that are cheap to build and ruinous to use:
``(t, t)`` nested 60 deep hashes in 2⁶⁰ steps, prints as 2⁶⁰ characters, and ``repr`` of a list
nested 10⁵ deep overflows the stack; an int of 5000 digits cannot even be printed.  The reader
therefore formats such values only with :func:`describe`, hashes them only after
:func:`check_hashable`, and reports foreign exceptions with :func:`exception_text`.
"""
import itertools

MAX_KEY_NODES = 10_000  # a dict key or set member may have this many tuple/frozenset nodes, counted with repetition


class CheckpointError(ValueError):
    """A checkpoint file is malformed, truncated, oversized or hostile; the message names the file and the problem."""


def describe(value, limit=80):
    """``repr(value)`` for an error message, at most ``limit`` characters, in bounded time.

    ``repr`` of a pickled value can recurse past the interpreter's limit, take exponential time
    (a tuple DAG), or fail (an int of more than 4300 digits); this shows containers to depth 2
    and their first 4 items, strings by their first 40 characters, and huge ints by their size."""
    text = _short_repr(value, 2)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short_repr(value, depth):
    if value is None or isinstance(value, bool) or type(value) is float or getattr(value, "safe_repr", False):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if value.bit_length() <= 64 else f"<int of {value.bit_length()} bits>"
    if isinstance(value, (str, bytes, bytearray)):
        return repr(value[:40]) + ("..." if len(value) > 40 else "")
    if isinstance(value, (tuple, list, set, frozenset, dict)):
        name = type(value).__name__
        if depth == 0:
            return f"<{name} of {len(value)}>"
        items = value.items() if isinstance(value, dict) else value
        parts = [f"{_short_repr(k, depth - 1)}: {_short_repr(v, depth - 1)}" if isinstance(value, dict)
                 else _short_repr(k, depth - 1) for k, v in _pairs(items, isinstance(value, dict))]
        more = ", ..." if len(value) > 4 else "," if len(value) == 1 and isinstance(value, tuple) else ""
        opening, closing = {"tuple": ("(", ")"), "list": ("[", "]"), "dict": ("{", "}"), "set": ("{", "}")}.get(
            name, (name + "({", "})"))
        return opening + ", ".join(parts) + more + closing
    return f"<{type(value).__name__}>"


def _pairs(items, is_dict):
    for item in itertools.islice(items, 4):
        yield item if is_dict else (item, None)


def check_hashable(value, source="<checkpoint>"):
    """Raise :class:`CheckpointError` unless hashing ``value`` visits at most ``MAX_KEY_NODES``
    tuple/frozenset nodes.  ``hash`` of a tuple re-hashes each item every time it is reached, so
    the count is taken with repetition, but computed once per distinct node (no recursion)."""
    if type(value) not in (tuple, frozenset):
        return
    count = {}  # id(node) -> nodes visited by hash(node)
    stack = [(value, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in count:
            continue
        children = [c for c in node if type(c) in (tuple, frozenset)]
        if not expanded:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in count)
            continue
        count[id(node)] = 1 + sum(count[id(c)] for c in children)
        if count[id(node)] > MAX_KEY_NODES:
            raise CheckpointError(f"{source}: a dict key or set member nests more than {MAX_KEY_NODES} tuples; "
                                  "refusing to hash it")


def exception_text(exc):
    """``'TypeName: message'`` of an exception raised while reading untrusted data, at most 200 characters
    (a ``KeyError``'s message is the repr of its key, so it goes through :func:`describe`)."""
    text = describe(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 200 else text[:197] + "..."
