"""The AURA stream protocol, v1 (docs/protocol.md): frames, COBS, decoders, encoder, profiles.

The most used names are re-exported from :mod:`aura_bridge` as well.
"""

from ._cobs import cobs_decode, cobs_encode, cobs_max_encoded_len
from ._decoder import AuraMessage, AuraPacketDecoder, AuraStreamDecoder
from ._encoder import AuraEncoder, quantize, wrap_frame
from ._many import decode_streams
from ._profiles import (
    AURA_BLE_PROFILE,
    AURA_CONTROL_UUID,
    AURA_DATA_UUID,
    AURA_PROFILES,
    AURA_SERIAL_PROFILE,
    AURA_SERVICE_UUID,
    samples_per_notification,
)
from ._wire import (
    AURA_MAX_FRAME_LEN,
    AURA_MAX_SAMPLES_PER_FRAME,
    AURA_PROTOCOL_VERSION,
    AckStatus,
    AuraAck,
    AuraCommand,
    AuraFrameError,
    AuraHello,
    AuraSampleFrame,
    MessageType,
    Opcode,
    parse_frame,
)

__all__ = [
    "AURA_BLE_PROFILE",
    "AURA_CONTROL_UUID",
    "AURA_DATA_UUID",
    "AURA_MAX_FRAME_LEN",
    "AURA_MAX_SAMPLES_PER_FRAME",
    "AURA_PROFILES",
    "AURA_PROTOCOL_VERSION",
    "AURA_SERIAL_PROFILE",
    "AURA_SERVICE_UUID",
    "AckStatus",
    "AuraAck",
    "AuraCommand",
    "AuraEncoder",
    "AuraFrameError",
    "AuraHello",
    "AuraMessage",
    "AuraPacketDecoder",
    "AuraSampleFrame",
    "AuraStreamDecoder",
    "MessageType",
    "Opcode",
    "cobs_decode",
    "cobs_encode",
    "cobs_max_encoded_len",
    "decode_streams",
    "parse_frame",
    "quantize",
    "samples_per_notification",
    "wrap_frame",
]
