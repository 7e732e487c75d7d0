"""Device profiles for AURA v1 devices: ``aura`` (serial / USB CDC) and ``aura-ble`` (GATT).

The UUIDs are defined in docs/protocol.md ("BLE GATT profile") and in
``firmware_bridge/c/aura_proto.h``; a test keeps the three in step.
"""

from __future__ import annotations

from .._types import DeviceProfile
from ._encoder import wrap_frame
from ._wire import AURA_MAX_SAMPLES_PER_FRAME, AuraCommand

__all__ = [
    "AURA_BLE_PROFILE",
    "AURA_CONTROL_UUID",
    "AURA_DATA_UUID",
    "AURA_PROFILES",
    "AURA_SERIAL_PROFILE",
    "AURA_SERVICE_UUID",
    "samples_per_notification",
]

AURA_SERVICE_UUID = "a02a0001-e2f0-4246-b229-171dc0968aa0"
#: notify: SAMPLES and HELLO frames, one per notification.
AURA_DATA_UUID = "a02a0002-e2f0-4246-b229-171dc0968aa0"
#: write (with response) + indicate: COMMAND frames in, ACK frames out.
AURA_CONTROL_UUID = "a02a0003-e2f0-4246-b229-171dc0968aa0"

_ATT_NOTIFY_OVERHEAD = 3  # opcode + attribute handle
_SAMPLES_OVERHEAD = 11


def samples_per_notification(mtu: int) -> int:
    """How many samples one SAMPLES frame can carry in a notification at ATT MTU ``mtu``.

    ``(mtu - 3 - 11) // 12``, capped at 64: 0 at the default MTU 23 (a device must negotiate
    a larger one), 1 at 35, 14 at 185, 19 at 247.
    """
    room = mtu - _ATT_NOTIFY_OVERHEAD - _SAMPLES_OVERHEAD
    return max(0, min(AURA_MAX_SAMPLES_PER_FRAME, room // 12))


def _commands(framing: str, *cmds: AuraCommand) -> tuple[bytes, ...]:
    if framing == "stream":
        # The leading 0x00 ends whatever partial bytes the device's receiver already holds.
        wired = [wrap_frame(c.to_frame(), "stream") for c in cmds]
        wired[0] = b"\x00" + wired[0]
        return tuple(wired)
    return tuple(c.to_frame() for c in cmds)


AURA_SERIAL_PROFILE = DeviceProfile(
    name="aura",
    transport="serial",
    framing="stream",
    sample_rate_hz=100.0,
    gravity_removed=False,
    has_timestamps=True,
    description="AURA v1 reference firmware over serial / USB CDC (COBS frames, "
                "docs/protocol.md)",
    start_commands=_commands("stream", AuraCommand.get_hello(1), AuraCommand.start(2)),
    stop_commands=_commands("stream", AuraCommand.stop(3)),
)

AURA_BLE_PROFILE = DeviceProfile(
    name="aura-ble",
    transport="ble",
    framing="packet",
    sample_rate_hz=100.0,
    gravity_removed=False,
    has_timestamps=True,
    description="AURA v1 reference firmware over BLE GATT (one frame per notification, "
                "ATT MTU >= 35; docs/protocol.md)",
    service_uuid=AURA_SERVICE_UUID,
    # Subscribe to both: data carries SAMPLES + HELLO, control indicates ACKs.
    notify_uuids=(AURA_DATA_UUID, AURA_CONTROL_UUID),
    control_uuid=AURA_CONTROL_UUID,
    start_commands=_commands("packet", AuraCommand.get_hello(1), AuraCommand.start(2)),
    stop_commands=_commands("packet", AuraCommand.stop(3)),
)

AURA_PROFILES = (AURA_SERIAL_PROFILE, AURA_BLE_PROFILE)
