"""Registers the AURA protocol's own profiles, ``"aura"`` and ``"aura-ble"``, by name.

The protocol lives in :mod:`aura_bridge.aura` (another module's job); this adapter only maps
its public profiles, decoders and encoder onto :class:`~aura_bridge.devices.DeviceSpec`, so
``make_decoder("aura")`` works like any vendor device. The registry imports this module
lazily (``EXTERNAL_PROFILE_MODULES``), on its first use, so importing
:mod:`aura_bridge.devices` never imports the AURA codec and there is no import cycle.

``make_encoder("aura", hello=AuraHello(...))``: the AURA encoder needs the HELLO it announces.
"""

from __future__ import annotations

import logging

from ._registry import DeviceSpec

__all__ = ["DEVICE_SPECS"]

DEVICE_SPECS: tuple[DeviceSpec, ...] = ()

try:
    from ..aura import (
        AURA_BLE_PROFILE,
        AURA_SERIAL_PROFILE,
        AuraEncoder,
        AuraPacketDecoder,
        AuraStreamDecoder,
    )
except ImportError as exc:  # the AURA codec is missing or renamed: vendor devices still work
    logging.getLogger(__name__).warning("AURA profiles not registered: %s", exc)
else:
    DEVICE_SPECS = (
        DeviceSpec(AURA_SERIAL_PROFILE, AuraStreamDecoder, AuraEncoder,
                   encoder_defaults={"framing": "stream"}),
        DeviceSpec(AURA_BLE_PROFILE, AuraPacketDecoder, AuraEncoder,
                   encoder_defaults={"framing": "packet"}),
    )
