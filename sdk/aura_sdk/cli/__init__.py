"""The ``aura`` command line. ``main(argv)`` returns an exit code (handy for tests)."""

from ._main import EXIT_FAILED, EXIT_MISSING_EXTRA, EXIT_NOT_BUILT, EXIT_OK, EXIT_USAGE, main

__all__ = ["EXIT_FAILED", "EXIT_MISSING_EXTRA", "EXIT_NOT_BUILT", "EXIT_OK", "EXIT_USAGE", "main"]
