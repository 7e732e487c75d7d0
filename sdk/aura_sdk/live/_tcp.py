"""TCP transport: a byte link (:class:`~aura_sdk.live._base.ByteLink`) over an asyncio stream."""

from __future__ import annotations

import asyncio
import contextlib

from .._errors import TransportError

__all__ = ["TcpLink"]


class TcpLink:
    """A device (or virtual device) streaming over TCP."""

    def __init__(self, host: str, port: int) -> None:
        self.name = f"tcp://{host}:{port}"
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), 5.0)
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"cannot connect: {exc}", device=self.name) from exc

    async def read(self, timeout: float) -> list[bytes]:
        if self._reader is None:
            raise TransportError("not connected", device=self.name)
        try:
            data = await asyncio.wait_for(self._reader.read(65536), timeout)
        except TimeoutError:
            return []
        except OSError as exc:
            raise TransportError(f"connection lost: {exc}", device=self.name) from exc
        if not data:
            raise TransportError("the device closed the connection", device=self.name)
        return [data]

    async def write(self, data: bytes) -> None:
        if self._writer is None:
            raise TransportError("not connected", device=self.name)
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            raise TransportError(f"write failed: {exc}", device=self.name) from exc

    async def close(self) -> None:
        w, self._writer, self._reader = self._writer, None, None
        if w is not None:
            w.close()
            with contextlib.suppress(OSError):
                await w.wait_closed()
