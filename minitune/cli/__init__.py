"""The ``minitune`` command line.

Each subcommand lives in its own module here and defines ``register(subparsers)``, which adds
its parser and sets ``func`` (a callable taking the parsed args and returning an exit code).
User errors (bad paths, bad arguments, unreadable files) print one line and exit with 2.
"""
import argparse
import importlib
import sys

# Subcommand modules, in the order ``minitune --help`` lists them.
COMMANDS = ["finetune", "evaluate", "predict", "weights", "warmup", "course"]


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def build_parser():
    parser = argparse.ArgumentParser(prog="minitune", description="Fine-tune ResNet-18 with a hand-built, PyTorch-checked library.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"minitune.cli.{name}_command").register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("minitune: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, TypeError, OSError, KeyError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"minitune: error: {message}", file=sys.stderr)
        return 2
