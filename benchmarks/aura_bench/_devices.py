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
import time
from collections.abc import Sequence

from aura_sdk.sim import DeviceSession, VirtualDevice, synthetic_wrist

__all__ = ["main", "serve"]


class _Wrist(asyncio.Protocol):
    """The device end of one TCP connection: a real AURA session (boot bytes, commands
    answered) whose sample packets the shared :class:`_Scheduler` writes."""

    def __init__(self, scheduler: _Scheduler) -> None:
        self.scheduler = scheduler
        self.session = DeviceSession(scheduler.device)
        self.transport: asyncio.Transport | None = None
        self.next = 0  # index of the next packet
        self.t0: float | None = None  # when its playback started (monotonic)
        self.k = 0  # arrival order (staggers the starts)
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        for b in self.session.boot():
            transport.write(b)
        self.scheduler.arrived(self)
        if self.session.streaming:
            self.scheduler.start(self)

    def data_received(self, data: bytes) -> None:
        was = self.session.generation
        assert self.transport is not None
        for reply in self.session.on_host_bytes(data):
            self.transport.write(reply)
        if self.session.streaming and self.session.generation != was:
            self.scheduler.start(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.scheduler.finish(self)


class _Scheduler:
    """Plays one recording to every connection from one timer: each turn writes every
    connection's packets that are due (a thousand connections cost a few percent of a core,
    where a coroutine per connection would cost more than one)."""

    def __init__(self, device: VirtualDevice, streams: int, speed: float, stagger_s: float,
                 turn_s: float = 0.005) -> None:
        self.device = device
        packets = list(device.packets(preamble=False))
        self.due = [p.due_s / speed for p in packets]
        self.data = [p.data for p in packets]
        self.streams, self.stagger_s, self.turn_s = streams, stagger_s, turn_s
        self.playing: list[_Wrist] = []
        self.count = 0
        self.finished = 0
        self.all_done = asyncio.Event()

    def arrived(self, w: _Wrist) -> None:
        w.k = self.count
        self.count += 1

    def start(self, w: _Wrist) -> None:
        w.t0 = time.monotonic() + self.stagger_s * w.k / self.streams
        w.next = 0
        if w not in self.playing:
            self.playing.append(w)

    def finish(self, w: _Wrist) -> None:
        if not w.done:
            w.done = True
            self.finished += 1
            if w in self.playing:
                self.playing.remove(w)
            if self.finished >= self.streams:
                self.all_done.set()

    async def run(self) -> None:
        due, data, n = self.due, self.data, len(self.due)
        while not self.all_done.is_set():
            now = time.monotonic()
            for w in list(self.playing):
                if w.t0 is None or w.transport is None or now < w.t0:
                    continue
                el = now - w.t0
                i = w.next
                while i < n and due[i] <= el:
                    w.transport.write(data[i])
                    i += 1
                w.next = i
                if i >= n:  # played: hang up, as a device that is done
                    self.playing.remove(w)
                    w.transport.close()
            await asyncio.sleep(self.turn_s)


async def serve(streams: int, seconds: float, speed: float, rate_hz: float, stagger_s: float,
                timeout_s: float, seed: int = 0) -> None:
    """Serve ``streams`` clients (see module doc); print the port once bound."""
    device = VirtualDevice("aura", synthetic_wrist(seconds, rate_hz, seed), packet_s=0.04)
    sched = _Scheduler(device, streams, speed, stagger_s)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Wrist(sched), "127.0.0.1", 0, backlog=4096)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    player = asyncio.create_task(sched.run())
    async with server:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sched.all_done.wait(), timeout_s)
    player.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await player


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
