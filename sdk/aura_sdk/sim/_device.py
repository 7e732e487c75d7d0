"""A virtual device: a recording turned into the wire packets a real device would send, on time.

:meth:`VirtualDevice.packets` is pure (no I/O, no clock): it yields each packet with the
moment, relative to stream start, at which the device would send it (just after the last
sample it carries was measured). :func:`play` paces those packets against the monotonic clock
and hands them to a sink (pty, TCP, BLE, file).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aura_bridge import AuraHello, ImuSamples
from aura_bridge.devices import get_profile, make_encoder

from .._errors import ConfigError
from .._recording import Recording

__all__ = ["Packet", "VirtualDevice", "hex_lines", "play", "stream_bytes"]


@dataclass(frozen=True)
class Packet:
    """One write (stream framing) or one notification (packet framing).

    Attributes:
        due_s: when to send it, in seconds after the stream starts.
        data: the wire bytes.
    """

    due_s: float
    data: bytes


class VirtualDevice:
    """Impersonate a device profile, playing a recording.

    Args:
        device: a profile name (``aura_bridge.devices.profile_names()``).
        recording: what the wrist does, in SI units.
        options: encoder options for the profile (e.g. ranges), rejected if unknown.
        packet_s: how much time one write / notification covers (the device's batching).
        loop: play the recording again and again (``packets`` never ends).

    Raises:
        ValueError: unknown device or option (the message lists valid ones).
        ConfigError: an empty recording.
    """

    def __init__(
        self, device: str, recording: Recording, *, options: Mapping[str, Any] | None = None,
        packet_s: float = 0.04, loop: bool = False,
    ) -> None:
        if len(recording) < 1:
            raise ConfigError("the recording is empty: nothing to play")
        self.profile = get_profile(device)
        self.device = device
        self.recording = recording
        self.options = dict(options or {})
        rate = recording.nominal_rate_hz() if len(recording) > 1 else self.profile.sample_rate_hz
        if device in ("aura", "aura-ble") and "hello" not in self.options:
            # announce the rate actually played, as firmware announces its configured rate
            self.options["hello"] = AuraHello.for_ranges(0, rate, 16, 2000)
        make_encoder(device, **self.options)  # validate the options now, not mid-stream
        self.samples_per_packet = max(1, round(packet_s * rate))
        self.loop = loop

    @property
    def framing(self) -> str:
        return self.profile.framing

    def packets(self, *, preamble: bool = True) -> Iterator[Packet]:
        """Yield the packets in order with their due times (endless when ``loop``).

        Args:
            preamble: start with the device's announcement (the AURA HELLO), as a capture
                of a freshly booted device holds it.
        """
        enc = make_encoder(self.device, **self.options)
        rec = self.recording
        period = 1.0 / rec.nominal_rate_hz() if len(rec) > 1 else 0.0
        span = rec.duration_s + period
        hello = getattr(enc, "hello_bytes", None)
        if preamble and callable(hello):
            yield Packet(0.0, bytes(hello()))
        lap = 0
        while True:
            offset = lap * span
            for a in range(0, len(rec), self.samples_per_packet):
                b = min(a + self.samples_per_packet, len(rec))
                t = rec.t[a:b] - rec.t[0] + offset
                chunk = ImuSamples(acc=rec.acc[a:b], gyro=rec.gyro[a:b], t=t + rec.t[0])
                wire = enc.encode(chunk)
                due = float(t[-1])
                if self.framing == "stream":
                    data = b"".join(wire)
                    if data:
                        yield Packet(due, data)
                else:
                    for note in wire:
                        yield Packet(due, bytes(note))
            lap += 1
            if not self.loop:
                return


async def play(
    packets: Iterator[Packet], send: Callable[[bytes], Awaitable[None]], *,
    realtime: bool = True, speed: float = 1.0, duration_s: float | None = None,
) -> int:
    """Send packets through ``send``, each at its due time (or as fast as possible).

    Args:
        packets: from :meth:`VirtualDevice.packets`.
        send: coroutine that delivers one packet.
        realtime: pace against the monotonic clock; ``False`` sends back to back.
        speed: playback speed factor when ``realtime``.
        duration_s: stop after this much stream time.

    Returns:
        the number of packets sent.
    """
    start = time.monotonic()
    sent = 0
    for p in packets:
        if duration_s is not None and p.due_s > duration_s:
            break
        if realtime:
            delay = start + p.due_s / speed - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)  # stay cooperative
        await send(p.data)
        sent += 1
    return sent


def stream_bytes(packets: Iterator[Packet]) -> bytes:
    """Concatenate every packet (stream framing: what a serial capture would hold)."""
    return b"".join(p.data for p in packets)


def hex_lines(packets: Iterator[Packet]) -> str:
    """One hex line per packet (packet framing: what a BLE notification capture holds)."""
    return "".join(p.data.hex() + "\n" for p in packets)

