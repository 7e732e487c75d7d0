"""The user data directory: enrolled labels, built engines, downloaded evaluation data.

``$AURA_HOME`` when set, else ``~/.aura``. Nothing the SDK writes at run time goes inside the
installed package or beside a bundle: an install is read-only by intent, even when its
folder happens to be writable (a virtualenv's site-packages).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["aura_home"]


def aura_home() -> Path:
    """The user data directory (``$AURA_HOME``, default ``~/.aura``); not created here."""
    env = os.environ.get("AURA_HOME")
    return Path(env).expanduser() if env else Path.home() / ".aura"
