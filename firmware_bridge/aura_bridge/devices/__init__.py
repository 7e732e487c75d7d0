"""Real IMU devices: profiles, decoders (wire bytes -> SI samples) and encoders (the reverse).

Every device is one module here (``_witmotion``, ``_polar``, ``_metawear``, ``_thingy``,
``_text``) with a pure-state-machine decoder, an encoder that lets a virtual device
impersonate it, and a :class:`~aura_bridge.DeviceProfile` that cites its sources. They are
selected by name::

    from aura_bridge.devices import get_profile, make_decoder, profile_names

    profile_names()          # ('metawear', 'polar-h10', 'polar-verity', 'text', ...)
    dec = make_decoder("metawear", acc_range_g=16)
    for notification in notifications:
        for samples in dec.feed(notification):
            ...              # ImuSamples in m/s^2 and rad/s

Unknown names raise :class:`UnknownDeviceError`, unknown options
:class:`UnknownOptionError`, bad option values :class:`DeviceOptionError`; all are
``ValueError`` subclasses whose message lists what is valid.

The AURA protocol's own profiles ``"aura"`` (serial) and ``"aura-ble"`` are registered too,
lazily, from :mod:`aura_bridge.aura` (``make_encoder("aura", hello=AuraHello(...))``), through
the adapter module named in :data:`EXTERNAL_PROFILE_MODULES`, which the registry imports on
its first use, so there is no import cycle.

Adding a device: one module here plus its test vectors. Profiles defined outside this
package: call :func:`register_device` with a :class:`DeviceSpec` (profile + decoder factory +
encoder factory, factories taking keyword-only options).
"""

from __future__ import annotations

from . import _metawear, _polar, _text, _thingy, _witmotion
from ._common import DeviceOptionError, G, VendorProfile
from ._polar import PolarStartResponse, parse_start_response
from ._registry import (
    EXTERNAL_PROFILE_MODULES,
    DeviceSpec,
    UnknownDeviceError,
    UnknownOptionError,
    get_profile,
    get_spec,
    make_decoder,
    make_encoder,
    profile_names,
    register_device,
)

__all__ = [
    "EXTERNAL_PROFILE_MODULES",
    "DeviceOptionError",
    "DeviceSpec",
    "G",
    "PolarStartResponse",
    "UnknownDeviceError",
    "UnknownOptionError",
    "VendorProfile",
    "get_profile",
    "get_spec",
    "make_decoder",
    "make_encoder",
    "parse_start_response",
    "profile_names",
    "register_device",
]

for _spec in (
    DeviceSpec(_witmotion.SERIAL_PROFILE, _witmotion.WitMotionSerialDecoder,
               _witmotion.WitMotionSerialEncoder),
    DeviceSpec(_witmotion.BLE_PROFILE, _witmotion.WitMotionBleDecoder,
               _witmotion.WitMotionBleEncoder),
    DeviceSpec(_polar.VERITY_PROFILE, _polar.PolarPmdDecoder, _polar.PolarPmdEncoder,
               decoder_defaults={"sample_rate_hz": 52.0},
               encoder_defaults={"sample_rate_hz": 52.0, "acc_frame": "delta"}),
    DeviceSpec(_polar.H10_PROFILE, _polar.PolarPmdDecoder, _polar.PolarPmdEncoder,
               decoder_defaults={"sample_rate_hz": 50.0},
               encoder_defaults={"sample_rate_hz": 50.0, "acc_frame": "raw16"}),
    DeviceSpec(_metawear.PROFILE, _metawear.MetaWearDecoder, _metawear.MetaWearEncoder),
    DeviceSpec(_thingy.PROFILE, _thingy.ThingyRawDecoder, _thingy.ThingyRawEncoder),
    DeviceSpec(_text.PROFILE, _text.TextLineDecoder, _text.TextLineEncoder),
):
    register_device(_spec)
del _spec
