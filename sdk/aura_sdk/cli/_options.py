"""Shared argument helpers for device commands."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["parse_options"]


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_options(items: list[str] | None) -> dict[str, Any]:
    """``["acc_range_g=16", "framing=packet"]`` -> ``{"acc_range_g": 16, ...}``.

    Raises:
        argparse.ArgumentTypeError: an item without ``=``.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--option expects KEY=VALUE, got {item!r}")
        out[key.strip().replace("-", "_")] = _value(val.strip())
    return out
