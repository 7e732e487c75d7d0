"""``LiveRecognizer``: live labels from a streaming IMU (the capability of issue #7).

Until that issue lands, every constructor raises :class:`NotBuiltError`, so code written
against the public names fails loudly and clearly rather than silently.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ._errors import NotBuiltError

__all__ = ["LiveRecognizer"]

_DETAIL = (
    "live recognition over serial / BLE / replay lands with issue #7; meanwhile use "
    "load_bundle(path).classify(imu, spec, labels) on recorded data"
)


class LiveRecognizer:
    """Live zero-shot activity recognition from a device stream (not built yet)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_built()

    @classmethod
    def from_serial(cls, *args: Any, **kwargs: Any) -> LiveRecognizer:
        """Open a serial device (not built yet)."""
        _not_built()

    @classmethod
    def from_ble(cls, *args: Any, **kwargs: Any) -> LiveRecognizer:
        """Connect to a BLE device (not built yet)."""
        _not_built()

    @classmethod
    def from_replay(cls, *args: Any, **kwargs: Any) -> LiveRecognizer:
        """Replay a recording (not built yet)."""
        _not_built()


def _not_built() -> NoReturn:
    raise NotBuiltError("LiveRecognizer", _DETAIL)
