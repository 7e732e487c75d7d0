"""TCP transport: a byte link (:class:`~aura_sdk.live._base.ByteLink`) on an asyncio protocol.

Bytes are taken where the event loop hands them over (``data_received``): either pushed at
once to a consumer that :meth:`TcpLink.attach`-ed itself (a live stream: no task wakes up and
no timer is armed per packet, which is what lets one core serve a thousand devices), or kept
for :meth:`TcpLink.read`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from .._errors import TransportError

__all__ = ["TcpLink"]

#: a pushed consumer: ``(bytes, host arrival time)``
Push = Callable[[bytes, float], None]


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

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._chunks, self._error, self._closed = [], None, asyncio.Event()
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(lambda: _Protocol(self), self.host, self.port), 5.0)
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"cannot connect: {exc}", device=self.name) from exc
        self._transport = transport

    # -- the protocol's side -----------------------------------------------------------------
    def _received(self, data: bytes) -> None:
        if self._push is not None:
            self._push(data, time.monotonic())
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
                push(c, now)

    async def watch(self, timeout: float) -> None:
        """Return after ``timeout`` seconds, or raise :class:`TransportError` as soon as the
        connection is lost (for an attached consumer)."""
        if not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout)
        if self._closed.is_set():
            raise TransportError(self._error or "connection lost", device=self.name)

    async def read(self, timeout: float) -> list[bytes]:
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
        if t is not None:
            t.close()
            await asyncio.sleep(0)  # let the loop finish the close
