"""Serial transport: a byte link (:class:`~aura_sdk.live._base.ByteLink`) over pyserial, imported
only here (extra ``serial``).

A port with a file descriptor (a tty or pty on POSIX) pushes its bytes: the event loop watches
the descriptor and hands each read to the attached consumer as it arrives, with no task, thread
or timeout per read (:meth:`SerialLink.attach`, as the TCP link does). Other ports (pyserial
URL handlers such as ``loop://``, Windows COM ports) are read in a worker thread with a short
timeout so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

from .._errors import MissingExtraError, TransportError
from ._base import watch_link

__all__ = ["SerialLink"]

#: a pushed consumer: ``(bytes, host arrival time, time before which none of the bytes came)``
Push = Callable[[bytes, float, float], None]


class SerialLink:
    """A serial port through pyserial (any ``serial_for_url`` URL works, e.g. ``loop://``)."""

    def __init__(self, port: str, baudrate: int = 115200, read_size: int = 4096) -> None:
        self.name = port
        self.port = port
        self.baudrate = baudrate
        self.read_size = read_size
        self._ser: Any = None
        self._fd: int | None = None
        self._push: Push | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = asyncio.Event()
        self._error: str | None = None

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
        self._closed, self._error = asyncio.Event(), None
        self._loop = asyncio.get_running_loop()
        try:
            fd = self._ser.fileno()
        except (AttributeError, OSError, ValueError, NotImplementedError):
            fd = None  # a URL handler: no descriptor to watch
        self._fd = fd if isinstance(fd, int) and fd >= 0 and os.name == "posix" else None

    @property
    def can_push(self) -> bool:
        """Whether the open port hands its bytes over as they arrive (:meth:`attach`)."""
        return self._fd is not None

    def attach(self, push: Push | None) -> None:
        """Hand every later read to ``push`` as it arrives (``None``: stop)."""
        loop, fd = self._loop, self._fd
        if fd is None or loop is None:
            raise TransportError("this port cannot push its bytes; read it", device=self.port)
        if self._push is not None:
            loop.remove_reader(fd)
        self._push = push
        if push is not None and not self._closed.is_set():
            loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        fd, push = self._fd, self._push
        if fd is None or push is None:
            return
        try:
            data = os.read(fd, self.read_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # EIO: the device went away
            self._lost(f"the serial device stopped answering: {exc}")
            return
        if not data:
            self._lost("the serial device closed")
            return
        now = time.monotonic()
        push(data, now, now)

    def _lost(self, why: str) -> None:
        self._error = why
        self._closed.set()
        if self._loop is not None and self._fd is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._fd)

    async def watch(self, timeout: float) -> None:
        """Return after ``timeout`` seconds, or raise :class:`TransportError` as soon as the
        port is lost (for an attached consumer)."""
        await watch_link(self._closed, timeout, self._error or "the serial device went away",
                         self.port)

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
        if self._push is not None and self._loop is not None and self._fd is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._fd)
        self._push, self._fd = None, None
        if ser is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(ser.close)
