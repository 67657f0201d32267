"""The ``minitune`` command line.

Each subcommand lives in its own module here and defines ``register(subparsers)``, which adds
its parser and sets ``func`` (a callable taking the parsed args and returning an exit code).

Every user error is ONE line on stderr, ``minitune: error: <what is wrong>``, and exit status 2:

* argparse's own errors (unknown option, missing or badly typed argument) — :class:`ArgumentParser`
  raises :class:`CLIError` instead of printing the usage (subparsers inherit the class);
* a subcommand's checks: ``raise CLIError("--topk must be at least 1, got 0")``, or use the
  argument types below (``type=positive_int``) so that argparse reports them;
* ``ValueError``, ``TypeError``, ``OSError`` and ``KeyError`` raised while running (a missing file,
  a corrupt checkpoint, a folder without images): the first line of their message.

Warnings (an unreadable image skipped) print as one line ``minitune: warning: …``, without the
source line Python's default format adds.  stdout and stderr replace what their encoding cannot
show (a class folder named in Latin-1 under a UTF-8 terminal) instead of failing.
"""
import argparse
import importlib
import math
import sys
import warnings

# Subcommand modules, in the order ``minitune --help`` lists them.
COMMANDS = ["finetune", "evaluate", "predict", "weights", "warmup", "course"]


class CLIError(Exception):
    """A user error: printed as the one line ``minitune: error: <message>``, exit status 2.

    Subcommands raise it for arguments that are well-formed but unusable, e.g.
    ``raise CLIError(f"--lr must be a positive finite number, got {args.lr}")``."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors raise :class:`CLIError` (one line, exit 2) instead of
    printing the usage and the error on two lines.  ``add_subparsers`` makes its subparsers of the
    same class, so every subcommand's errors are one line too; ``--help`` is unchanged."""

    def error(self, message):
        hint = f" (see: {self.prog} --help)"
        raise CLIError(message.strip().splitlines()[0] + hint)


def _number(text, kind, check, what):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not check(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
    return value


def positive_int(text):
    """argparse type: an int >= 1."""
    return _number(text, int, lambda v: v >= 1, "an int >= 1")


def non_negative_int(text):
    """argparse type: an int >= 0."""
    return _number(text, int, lambda v: v >= 0, "an int >= 0")


def positive_float(text):
    """argparse type: a finite float > 0 (``inf`` and ``nan`` are refused)."""
    return _number(text, float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")


def non_negative_float(text):
    """argparse type: a finite float >= 0."""
    return _number(text, float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")


def build_parser():
    parser = ArgumentParser(prog="minitune", description="Fine-tune ResNet-18 with a hand-built, PyTorch-checked "
                                                         "library.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"minitune.cli.{name}_command").register(sub)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None):
    text = str(message).strip().splitlines()
    return f"minitune: warning: {text[0] if text else category.__name__}\n"


def _tolerant_streams():
    """Replace, rather than fail on, characters the terminal's encoding cannot show (a file name
    that is not valid UTF-8 decodes to lone surrogates, which a strict UTF-8 stream refuses)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") == "strict":
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # a stream that cannot be reconfigured (closed, detached)
                pass


def error_line(exc):
    """The one line printed for a user error."""
    message = str(exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def main(argv=None):
    _tolerant_streams()
    saved, warnings.formatwarning = warnings.formatwarning, _one_line_warning
    try:
        return _run(argv)
    finally:
        warnings.formatwarning = saved


def _run(argv):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            raise CLIError("no command given; choose one of: " + ", ".join(COMMANDS) + " (see: minitune --help)")
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("minitune: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, TypeError, OSError, KeyError) as exc:
        print(f"minitune: error: {error_line(exc)}", file=sys.stderr)
        return 2
