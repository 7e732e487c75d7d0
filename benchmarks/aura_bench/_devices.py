"""Virtual wrists for the streaming benchmarks, served over TCP from their own process.

``python -m aura_bench._devices --streams N --seconds S --speed X --rate HZ --stagger T``
binds a loopback port, prints ``PORT <n>``, and serves N clients: each hears an AURA-protocol
wrist (``aura_sdk.sim``) play the same synthetic recording, client k starting ``k * T / N``
seconds after it connects, so the N streams' windows complete spread over T seconds (as
independent wrists would) instead of all in the same instant. The process exits after N
clients finished. It runs apart from the recogniser so that the recogniser's CPU time is its
own and the devices keep their pace whatever the recogniser does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from aura_sdk.sim import VirtualDevice, run_device, synthetic_wrist

__all__ = ["main", "serve"]


class _TcpLink:
    """The device end of one TCP connection (``send`` / ``recv`` for ``run_device``)."""

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
        if not data:  # the host closed its side
            await asyncio.sleep(timeout)
        return data


async def serve(streams: int, seconds: float, speed: float, rate_hz: float, stagger_s: float,
                timeout_s: float, seed: int = 0) -> None:
    """Serve ``streams`` clients (see module doc); print the port once bound."""
    device = VirtualDevice("aura", synthetic_wrist(seconds, rate_hz, seed), packet_s=0.04)
    finished = asyncio.Event()
    arrived = 0
    done = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal arrived, done
        k = arrived
        arrived += 1
        try:
            await asyncio.sleep(stagger_s * k / streams)
            await run_device(device, _TcpLink(reader, writer), realtime=True, speed=speed)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            done += 1
            if done >= streams:
                finished.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), timeout_s)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (see module doc)."""
    p = argparse.ArgumentParser(prog="python -m aura_bench._devices", description=__doc__)
    p.add_argument("--streams", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--stagger", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=600.0)
    a = p.parse_args(argv)
    asyncio.run(serve(a.streams, a.seconds, a.speed, a.rate, a.stagger, a.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
