"""Virtual devices: play a recording as a real device profile over a pty, TCP, BLE or a file.

Used by ``aura simulate``, the SDK's tests and ``aura demo``. Nothing here is imported by
``aura_sdk`` itself; the BLE side needs the ``sim`` extra (bumble).
"""

from ._device import Packet, VirtualDevice, hex_lines, play, stream_bytes
from ._links import PtyLink, serve_tcp
from ._session import DeviceSession, run_device
from ._source import synthetic_wrist

__all__ = [
    "DeviceSession",
    "Packet",
    "PtyLink",
    "VirtualDevice",
    "hex_lines",
    "play",
    "run_device",
    "serve_tcp",
    "stream_bytes",
    "synthetic_wrist",
]
