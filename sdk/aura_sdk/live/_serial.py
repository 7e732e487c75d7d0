"""Serial transport: a byte link (:class:`~aura_sdk.live._base.ByteLink`) over pyserial, imported
only here (extra ``serial``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from .._errors import MissingExtraError, TransportError

__all__ = ["SerialLink"]


class SerialLink:
    """A serial port through pyserial (any ``serial_for_url`` URL works, e.g. ``loop://``).

    Reads run in a worker thread with a short timeout so the event loop never blocks.
    """

    def __init__(self, port: str, baudrate: int = 115200, read_size: int = 4096) -> None:
        self.name = port
        self.port = port
        self.baudrate = baudrate
        self.read_size = read_size
        self._ser: Any = None

    async def open(self) -> None:
        try:
            import serial
        except ModuleNotFoundError as exc:
            raise MissingExtraError("serial", "serial devices", "pyserial") from exc
        try:
            self._ser = await asyncio.to_thread(serial.serial_for_url, self.port,
                                                baudrate=self.baudrate, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open the serial port: {exc}; check the path and that "
                                 "no other program holds it", device=self.port) from exc

    async def read(self, timeout: float) -> list[bytes]:
        import serial

        ser = self._ser
        if ser is None:
            raise TransportError("the port is not open", device=self.port)
        deadline = time.monotonic() + timeout
        try:
            while True:
                data = await asyncio.to_thread(ser.read, self.read_size)
                if data:
                    return [bytes(data)]
                if time.monotonic() >= deadline:
                    return []
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # pyserial raises SerialException (or OSError / TypeError from a closed fd) when
            # the device goes away
            raise TransportError(f"the serial device stopped answering: {exc}",
                                 device=self.port) from exc

    async def write(self, data: bytes) -> None:
        import serial

        try:
            await asyncio.to_thread(self._ser.write, data)
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"write failed: {exc}", device=self.port) from exc

    async def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(ser.close)
