"""UUID spelling shared by the radio, the peripheral and the bleak backend.

bleak spells every UUID as a lower-case 128-bit string; bumble keeps 16-, 32- or 128-bit
little-endian bytes. Both sides go through the canonical 128-bit string here.
"""

from __future__ import annotations

import uuid as _uuid

from .._errors import ConfigError, MissingExtraError

try:
    from bumble import core
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sim", "aura_sdk.ble (the bumble radio)", "bumble") from exc

__all__ = ["canonical_uuid", "from_bumble", "to_bumble"]

_SIG_BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"


def canonical_uuid(text: str) -> str:
    """The canonical lower-case 128-bit spelling of a UUID.

    ``"FFE4"``, ``"0000ffe4"`` -> ``"0000ffe4-0000-1000-8000-00805f9b34fb"``; 128-bit strings
    in any case or with braces are accepted.

    Raises:
        ConfigError: not a UUID.
    """
    raw = text.strip().lower()
    if len(raw) in (4, 8) and all(c in "0123456789abcdef" for c in raw):
        return f"{int(raw, 16):08x}{_SIG_BASE_SUFFIX}"
    try:
        return str(_uuid.UUID(raw))
    except ValueError as exc:
        raise ConfigError(
            f"{text!r} is not a Bluetooth UUID (16-bit 'ffe4' or 128-bit form)"
        ) from exc


def to_bumble(text: str) -> core.UUID:
    """A bumble UUID, in its shortest form (16 bits for SIG-base UUIDs that fit)."""
    full = canonical_uuid(text)
    if full.endswith(_SIG_BASE_SUFFIX) and full.startswith("0000"):
        return core.UUID.from_16_bits(int(full[4:8], 16))
    return core.UUID(full)


def from_bumble(value: core.UUID) -> str:
    """The canonical lower-case 128-bit string of a bumble UUID."""
    return str(_uuid.UUID(bytes=value.to_bytes(force_128=True)[::-1]))
