"""TCP transport: a byte link (:class:`~aura_sdk.live._base.ByteLink`) on an asyncio protocol,
or polled by a gateway.

Bytes are taken where the event loop hands them over (``data_received``): either pushed at
once to a consumer that :meth:`TcpLink.attach`-ed itself (a live stream: no task wakes up and
no timer is armed per packet), or kept for :meth:`TcpLink.read`.

A gateway with many devices opens its links *polled* (:attr:`TcpLink.polled`): the socket is
not watched by the event loop at all; the recogniser's tick reads every link once
(:meth:`TcpLink.poll`, one ``recvmsg`` that takes all the packets that came since the last
tick, or fails at once when none did), instead of one loop wake-up, one ``recv`` and one
callback per packet. On Linux the kernel stamps when the bytes arrived (``SO_TIMESTAMPNS``:
the time of the last of them), so the arrival a poll reports is when the data came, not when
it was read; each chunk also carries the previous poll's time, before which none of its bytes
can have arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
import time
from collections.abc import Callable

from .._errors import TransportError
from ._base import watch_link

__all__ = ["TcpLink"]

#: a pushed consumer: ``(bytes, host arrival time, time before which none of the bytes came)``
Push = Callable[[bytes, float, float], None]

#: the kernel's receive timestamps on a socket (Linux; the socket module does not name it)
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None)
_TIMESPEC = struct.Struct("@qq")
#: bytes one poll reads at most per ``recvmsg`` (it reads again while they fill it)
_POLL_SIZE = 65536


class _Protocol(asyncio.Protocol):
    def __init__(self, link: TcpLink) -> None:
        self.link = link

    def data_received(self, data: bytes) -> None:
        self.link._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link._lost(exc)


class TcpLink:
    """A device (or virtual device) streaming over TCP."""

    def __init__(self, host: str, port: int) -> None:
        self.name = f"tcp://{host}:{port}"
        self.host, self.port = host, port
        self._transport: asyncio.Transport | None = None
        self._chunks: list[bytes] = []
        self._waiter: asyncio.Future[None] | None = None
        self._push: Push | None = None
        self._closed = asyncio.Event()
        self._error: str | None = None
        #: open the next connection polled (see module doc): reads only in :meth:`poll`
        self.polled = False
        self._sock: socket.socket | None = None
        self._last_poll = 0.0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._chunks, self._error, self._closed = [], None, asyncio.Event()
        if self.polled:
            await self._open_polled(loop)
            return
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(lambda: _Protocol(self), self.host, self.port), 5.0)
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"cannot connect: {exc}", device=self.name) from exc
        self._transport = transport

    async def _open_polled(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise TransportError(f"cannot connect: {exc}", device=self.name) from exc
        err: Exception | None = None
        for family, kind, proto, _, addr in infos:
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, addr), 5.0)
            except (OSError, TimeoutError) as exc:
                sock.close()
                err = exc
                continue
            if _SO_TIMESTAMPNS is not None:  # without it a poll's arrival is its own time
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            self._sock = sock
            self._last_poll = time.monotonic()
            return
        raise TransportError(f"cannot connect: {err}", device=self.name)

    def poll(self, real_minus_mono: float) -> None:
        """Read what came since the last poll (never blocks) and push it to the attached
        consumer as one chunk: its arrival is the kernel's stamp of the last bytes (moved to
        the ``time.monotonic()`` clock by ``real_minus_mono``, ``time.time() -
        time.monotonic()`` now), else the time of this poll. A closed or failed connection
        is recorded for :meth:`watch`."""
        sock = self._sock
        if sock is None or self._push is None or self._closed.is_set():
            return
        parts: list[bytes] = []
        stamp: float | None = None
        while True:
            try:
                data, anc, _, _ = sock.recvmsg(_POLL_SIZE, 64)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._lost(exc)
                break
            if not data:
                self._lost(None)
                break
            parts.append(data)
            for _, kind, raw in anc:
                if kind == _SO_TIMESTAMPNS and len(raw) >= _TIMESPEC.size:
                    sec, ns = _TIMESPEC.unpack_from(raw)
                    stamp = sec + ns * 1e-9 - real_minus_mono
            if len(data) < _POLL_SIZE:
                break
        now = time.monotonic()
        since, self._last_poll = self._last_poll, now
        if parts:
            # a stamp is never before the previous poll nor after this one
            arrival = now if stamp is None else min(now, max(since, stamp))
            self._push(parts[0] if len(parts) == 1 else b"".join(parts), arrival, since)

    # -- the protocol's side -----------------------------------------------------------------
    def _received(self, data: bytes) -> None:
        if self._push is not None:
            now = time.monotonic()
            self._push(data, now, now)
            return
        self._chunks.append(data)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _lost(self, exc: Exception | None) -> None:
        self._error = (f"connection lost: {exc}" if exc is not None
                       else "the device closed the connection")
        self._closed.set()
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    # -- the consumer's side -----------------------------------------------------------------
    def attach(self, push: Push | None) -> None:
        """Hand every later chunk to ``push`` as it arrives (``None``: keep them for
        :meth:`read` again)."""
        self._push = push
        if push is not None and self._chunks:
            chunks, self._chunks = self._chunks, []
            now = time.monotonic()
            for c in chunks:
                push(c, now, now)

    async def watch(self, timeout: float) -> None:
        """Return after ``timeout`` seconds, or raise :class:`TransportError` as soon as the
        connection is lost (for an attached consumer)."""
        await watch_link(self._closed, timeout, self._error or "connection lost", self.name)

    async def read(self, timeout: float) -> list[bytes]:
        if self._sock is not None:
            raise TransportError("a polled link is read by poll()", device=self.name)
        if self._transport is None:
            raise TransportError("not connected", device=self.name)
        if not self._chunks and not self._closed.is_set():
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._waiter, timeout)
            finally:
                self._waiter = None
        if self._chunks:
            chunks, self._chunks = self._chunks, []
            return chunks
        if self._closed.is_set():
            raise TransportError(self._error or "connection lost", device=self.name)
        return []

    async def write(self, data: bytes) -> None:
        if self._sock is not None:
            try:
                await asyncio.get_running_loop().sock_sendall(self._sock, data)
            except OSError as exc:
                raise TransportError(f"write failed: {exc}", device=self.name) from exc
            return
        t = self._transport
        if t is None or t.is_closing():
            raise TransportError("not connected", device=self.name)
        try:
            t.write(data)
        except OSError as exc:
            raise TransportError(f"write failed: {exc}", device=self.name) from exc

    async def close(self) -> None:
        t, self._transport = self._transport, None
        self._push = None
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if t is not None:
            t.close()
            await asyncio.sleep(0)  # let the loop finish the close
