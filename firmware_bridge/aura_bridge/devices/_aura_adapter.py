"""Registers the AURA protocol's own profiles, ``"aura"`` and ``"aura-ble"``, by name.

The protocol lives in :mod:`aura_bridge.aura` (another module's job); this adapter only maps
its public profiles, decoders and encoder onto :class:`~aura_bridge.devices.DeviceSpec`, so
``make_decoder("aura")`` works like any vendor device. The registry imports this module
lazily (``EXTERNAL_PROFILE_MODULES``), on its first use, so importing
:mod:`aura_bridge.devices` never imports the AURA codec and there is no import cycle.

The AURA encoder needs the HELLO it announces: ``make_encoder("aura", hello=AuraHello(...))``;
without one it announces :data:`DEFAULT_HELLO` (device id 0, the profile's rate, +-16 g,
+-2000 deg/s: wide enough that wrist motion never clips). A virtual device sends
``encoder.hello_bytes()`` before the first samples, as the firmware does.
"""

from __future__ import annotations

import logging

from ._registry import DeviceSpec

__all__ = ["DEFAULT_HELLO", "DEVICE_SPECS"]

DEVICE_SPECS: tuple[DeviceSpec, ...] = ()
DEFAULT_HELLO: object = None

try:
    from ..aura import (
        AURA_BLE_PROFILE,
        AURA_SERIAL_PROFILE,
        AuraEncoder,
        AuraHello,
        AuraPacketDecoder,
        AuraStreamDecoder,
    )
except ImportError as exc:  # the AURA codec is missing or renamed: vendor devices still work
    logging.getLogger(__name__).warning("AURA profiles not registered: %s", exc)
else:
    DEFAULT_HELLO = AuraHello.for_ranges(0, AURA_SERIAL_PROFILE.sample_rate_hz, 16, 2000)
    DEVICE_SPECS = (
        DeviceSpec(AURA_SERIAL_PROFILE, AuraStreamDecoder, AuraEncoder,
                   encoder_defaults={"framing": "stream", "hello": DEFAULT_HELLO}),
        DeviceSpec(AURA_BLE_PROFILE, AuraPacketDecoder, AuraEncoder,
                   encoder_defaults={"framing": "packet", "hello": DEFAULT_HELLO}),
    )
