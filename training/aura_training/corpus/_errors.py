"""Errors of the corpus: leaves of the AURA tree (``aura_sdk._errors``).

::

    AuraError
    └── CorpusError (ValueError)              a corpus or shard cannot be read or written
        └── CorpusNotFoundError (FileNotFoundError)
"""

from __future__ import annotations

import os
from pathlib import Path

from aura_sdk import AuraError

__all__ = ["CorpusError", "CorpusNotFoundError"]


class CorpusError(AuraError, ValueError):
    """A corpus, manifest or shard is malformed or inconsistent; ``path`` names the file."""

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(Path(path))
        super().__init__(f"{self.path}: {message}" if self.path else message)


class CorpusNotFoundError(CorpusError, FileNotFoundError):
    """The corpus directory or its manifest does not exist."""
