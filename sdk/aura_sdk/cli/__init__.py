"""The ``aura`` command line. ``main(argv)`` returns an exit code (handy for tests).

Server-side packages add subcommands through the ``aura.commands`` entry-point group: each
provides a :class:`Command`, and :func:`run_standalone` runs one as its own program.
"""

from ._main import EXIT_FAILED, EXIT_MISSING_EXTRA, EXIT_NOT_BUILT, EXIT_OK, EXIT_USAGE, main
from ._registry import Command, run_standalone

__all__ = [
    "EXIT_FAILED",
    "EXIT_MISSING_EXTRA",
    "EXIT_NOT_BUILT",
    "EXIT_OK",
    "EXIT_USAGE",
    "Command",
    "main",
    "run_standalone",
]
