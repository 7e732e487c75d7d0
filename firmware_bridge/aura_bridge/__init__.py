"""AURA firmware bridge: wire protocols of the AURA stream and of real vendor IMUs.

Parsers here never do I/O (STYLE.md): bytes in, frames and samples out. Imports numpy only.
"""

from ._types import (
    Decoder,
    DecoderStats,
    DeviceProfile,
    Encoder,
    Framing,
    ImuSamples,
    Transport,
)
from .aura import (
    AURA_BLE_PROFILE,
    AURA_PROFILES,
    AURA_PROTOCOL_VERSION,
    AURA_SERIAL_PROFILE,
    AckStatus,
    AuraAck,
    AuraCommand,
    AuraEncoder,
    AuraFrameError,
    AuraHello,
    AuraPacketDecoder,
    AuraStreamDecoder,
    Opcode,
)
from .devices import (
    DeviceOptionError,
    UnknownDeviceError,
    UnknownOptionError,
    get_profile,
    make_decoder,
    make_encoder,
    profile_names,
)

__all__: list[str] = [
    # AURA stream protocol v1 (aura_bridge.aura has the rest: COBS, UUIDs, parse_frame, ...)
    "AURA_BLE_PROFILE",
    "AURA_PROFILES",
    "AURA_PROTOCOL_VERSION",
    "AURA_SERIAL_PROFILE",
    "AckStatus",
    "AuraAck",
    "AuraCommand",
    "AuraEncoder",
    "AuraFrameError",
    "AuraHello",
    "AuraPacketDecoder",
    "AuraStreamDecoder",
    # shared types
    "Decoder",
    "DecoderStats",
    "DeviceOptionError",
    "DeviceProfile",
    "Encoder",
    "Framing",
    "ImuSamples",
    "Opcode",
    "Transport",
    # real devices by name (aura_bridge.devices has the rest: DeviceSpec, VendorProfile, ...)
    "UnknownDeviceError",
    "UnknownOptionError",
    "get_profile",
    "make_decoder",
    "make_encoder",
    "profile_names",
]
