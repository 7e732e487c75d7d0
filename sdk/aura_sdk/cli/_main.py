"""``aura``: one entry point; each subcommand is resolved only when it is asked for."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .._errors import AuraError, MissingExtraError, NotBuiltError
from ._registry import SLOTS, resolve

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_BUILT = 3
EXIT_MISSING_EXTRA = 4


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("aura-sdk")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aura",
        description="AURA: zero-shot activity recognition from wrist and robot IMUs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {s.name:<10} {s.help}" for s in SLOTS.values())
        + "\n\n`aura COMMAND --help` describes one command.",
    )
    parser.add_argument("--version", action="version", version=f"aura-sdk {_version()}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-v info, -vv debug)")
    parser.add_argument("command", choices=sorted(SLOTS), metavar="COMMAND")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``aura`` command line; returns the exit code instead of exiting."""
    try:
        args = _top_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    name = args.command
    try:
        command = resolve(name)
    except NotBuiltError as exc:
        print(f"aura {name}: {exc}", file=sys.stderr)
        return EXIT_NOT_BUILT
    except MissingExtraError as exc:
        print(f"aura {name}: {exc}", file=sys.stderr)
        return EXIT_MISSING_EXTRA
    sub = argparse.ArgumentParser(prog=f"aura {name}", description=command.help)
    command.configure(sub)
    try:
        sub_args = sub.parse_args(args.rest)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    try:
        return int(command.run(sub_args))
    except AuraError as exc:
        print(f"aura {name}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"aura {name}: interrupted", file=sys.stderr)
        return 130
