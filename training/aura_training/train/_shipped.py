"""The teacher checkpoint that ships with ``aura_training``: the base for fine-tuning."""

from __future__ import annotations

from pathlib import Path

from aura_sdk import ConfigError

from ._checkpoint import find_checkpoint

__all__ = ["DEFAULT_TEACHER_DIR", "default_teacher_path"]

#: Where the shipped teacher lives inside the installed package.
DEFAULT_TEACHER_DIR = Path(__file__).resolve().parent.parent / "checkpoints" / "default-teacher"


def default_teacher_path() -> Path:
    """The shipped teacher checkpoint (``imu-xs`` with its text alignment; safetensors and
    JSON, no pickle), from which ``aura retrain --recordings ...`` fine-tunes and the
    default bundle's student was distilled.

    Raises:
        ConfigError: the package was installed without it.
    """
    found = find_checkpoint(DEFAULT_TEACHER_DIR)
    if found is None:
        raise ConfigError(f"no teacher checkpoint at {DEFAULT_TEACHER_DIR}: this install of "
                          "aura_training lacks its package data; reinstall aura-sdk[train] or "
                          "pass a run directory of `aura train`")
    return found
