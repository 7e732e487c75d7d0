"""Where a virtual device's bytes go: a pty (a serial port without hardware) or TCP on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import tty
from collections.abc import Callable
from pathlib import Path

from .._errors import TransportError
from ._device import VirtualDevice

__all__ = ["PtyLink", "serve_tcp"]

logger = logging.getLogger(__name__)


class PtyLink:
    """A pseudo-terminal pair: the virtual device writes the master side; a program opens
    :attr:`port` with pyserial exactly as it would open ``/dev/ttyACM0``.

    Args:
        link_path: optional stable path, a symlink re-pointed at the current pty, so that an
            "unplug" (:meth:`close`) followed by a "replug" (a new ``PtyLink`` with the same
            ``link_path``) looks to the reader like the same port coming back.
        write_timeout_s: how long a write may wait for a reader to drain the pty buffer before
            the packet is dropped (and counted), as a real UART overflows.
    """

    def __init__(self, link_path: str | os.PathLike[str] | None = None,
                 write_timeout_s: float = 1.0) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes pass unchanged: no echo, no CR/LF mapping
        os.set_blocking(self._master, False)
        self.device_path = os.ttyname(self._slave)
        self.link_path = Path(link_path) if link_path is not None else None
        if self.link_path is not None:
            tmp = self.link_path.with_name(self.link_path.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.device_path)
            tmp.replace(self.link_path)
        self.write_timeout_s = write_timeout_s
        self.dropped_packets = 0
        self.closed = False

    @property
    def port(self) -> str:
        """The path a reader opens."""
        return str(self.link_path) if self.link_path is not None else self.device_path

    async def send(self, data: bytes) -> None:
        """Write ``data`` to the device side; drop it (counted) if no reader drains the pty."""
        if self.closed:
            raise TransportError("the virtual device was unplugged", device=self.port)
        view = memoryview(data)
        deadline = asyncio.get_running_loop().time() + self.write_timeout_s
        while view:
            try:
                n = os.write(self._master, view)
                view = view[n:]
            except BlockingIOError:
                if asyncio.get_running_loop().time() > deadline:
                    self.dropped_packets += 1
                    logger.debug("pty %s full: dropped %d bytes", self.port, len(view))
                    return
                await asyncio.sleep(0.002)
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    raise TransportError("the pty closed", device=self.port) from exc
                raise

    async def recv(self, timeout: float) -> bytes:
        """Bytes the host wrote to the port (commands), or ``b""`` after ``timeout``."""
        if self.closed:
            raise TransportError("the virtual device was unplugged", device=self.port)
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(self._master, wake)
        try:
            await asyncio.wait_for(ready, timeout)
        except TimeoutError:
            return b""
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(self._master)
        try:
            return os.read(self._master, 4096)
        except (BlockingIOError, OSError):
            return b""

    def close(self) -> None:
        """Unplug: close both ends (a reader then sees the port fail)."""
        if self.closed:
            return
        self.closed = True
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PtyLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _TcpDeviceLink:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float) -> bytes:
        try:
            data = await asyncio.wait_for(self.reader.read(4096), timeout)
        except TimeoutError:
            return b""
        if not data:
            await asyncio.sleep(timeout)  # the host closed its side; keep the loop calm
        return data


async def serve_tcp(
    device: VirtualDevice, host: str = "127.0.0.1", port: int = 0, *,
    realtime: bool = True, speed: float = 1.0, duration_s: float | None = None,
    ready: Callable[[int], None] | None = None, max_clients: int | None = None,
) -> None:
    """Serve a virtual device over TCP: each client gets its own device session.

    Args:
        device: the virtual device (each client hears it from the start of its recording).
        host: bind address (loopback by default; never a public address in tests).
        port: 0 picks a free port; ``ready`` receives the bound port.
        realtime, speed, duration_s: playback pacing (see :func:`play`).
        max_clients: stop serving after this many clients finished (``None``: forever).
    """
    from ._session import run_device

    finished = asyncio.Event()
    done = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal done
        try:
            await run_device(device, _TcpDeviceLink(reader, writer), realtime=realtime,
                             speed=speed, duration_s=duration_s)
        except (ConnectionError, OSError) as exc:
            logger.info("tcp client left: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            done += 1
            if max_clients is not None and done >= max_clients:
                finished.set()

    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready(int(bound))
    async with server:
        if max_clients is None:
            await server.serve_forever()
        else:
            await finished.wait()
