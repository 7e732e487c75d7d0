"""A virtual device's conversation with its host: commands in, replies and samples out.

An AURA device behaves as the protocol says (docs/protocol.md): idle after boot, a HELLO on
boot and on ``GET_HELLO``, every command answered by one ACK, samples only between ``START``
and ``STOP``. Vendor profiles stream from the moment they are connected (their start commands
are accepted and counted). :func:`run_device` drives a session over any link with
``send``/``recv``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Protocol

from aura_bridge import AckStatus, AuraAck, AuraCommand, AuraEncoder, Opcode
from aura_bridge.aura import AuraPacketDecoder, AuraStreamDecoder
from aura_bridge.devices import make_encoder

from ._device import Packet, VirtualDevice, play

__all__ = ["DeviceSession", "Link", "run_device"]

logger = logging.getLogger(__name__)


class Link(Protocol):
    async def send(self, data: bytes) -> None: ...
    async def recv(self, timeout: float) -> bytes: ...


class DeviceSession:
    """The device side of the protocol for one connection (pure: no I/O).

    Attributes:
        streaming: whether samples should flow now.
        commands: commands received, by opcode name.
    """

    def __init__(self, device: VirtualDevice) -> None:
        self.device = device
        self.is_aura = device.device in ("aura", "aura-ble")
        self.streaming = not self.is_aura
        self.commands: dict[str, int] = {}
        self.generation = 0  # bumps on every START, so playback restarts from the beginning
        if self.is_aura:
            enc = make_encoder(device.device, **device.options)
            assert isinstance(enc, AuraEncoder)
            self._encoder = enc
            self._parser: AuraStreamDecoder | AuraPacketDecoder = (
                AuraStreamDecoder() if device.framing == "stream" else AuraPacketDecoder())

    def boot(self) -> list[bytes]:
        """What the device sends when it powers up."""
        if not self.is_aura:
            return []
        # on a byte stream, a lone 0x00 first ends whatever garbage preceded the boot
        lead = b"\x00" if self.device.framing == "stream" else b""
        return [lead + self._encoder.hello_bytes()]

    def on_host_bytes(self, data: bytes) -> list[bytes]:
        """Handle bytes from the host; return the replies to send."""
        if not self.is_aura:
            self.commands["vendor"] = self.commands.get("vendor", 0) + 1
            return []
        replies: list[bytes] = []
        for msg in self._parser.feed_messages(data):
            if not isinstance(msg, AuraCommand):
                continue
            name = Opcode(msg.opcode).name if msg.opcode in Opcode._value2member_map_ else "?"
            self.commands[name] = self.commands.get(name, 0) + 1
            status = AckStatus.OK
            extra: list[bytes] = []
            if msg.opcode == Opcode.START:
                self.streaming = True
                self.generation += 1
            elif msg.opcode == Opcode.STOP:
                self.streaming = False
            elif msg.opcode == Opcode.GET_HELLO:
                extra.append(self._encoder.hello_bytes())
            else:  # SET_RATE / SET_RANGE: a recording cannot change its rate or range
                status = AckStatus.BAD_STATE if msg.opcode in Opcode._value2member_map_ \
                    else AckStatus.UNKNOWN_OPCODE
            replies.append(self._encoder.message_bytes(AuraAck(msg.opcode, msg.token, status)))
            replies.extend(extra)
        return replies


async def run_device(
    device: VirtualDevice, link: Link, *, realtime: bool = True, speed: float = 1.0,
    duration_s: float | None = None,
) -> DeviceSession:
    """Serve one connection: answer commands and stream while started, until the recording
    (or ``duration_s`` of stream time) is played.

    Returns:
        the session, with its counters.
    """
    session = DeviceSession(device)
    started = asyncio.Event()
    if session.streaming:
        started.set()
    for b in session.boot():
        await link.send(b)

    async def listen() -> None:
        while True:
            data = await link.recv(0.5)
            if not data:
                continue
            was = session.generation
            for reply in session.on_host_bytes(data):
                await link.send(reply)
            if session.streaming and session.generation != was:
                started.set()

    listener = asyncio.create_task(listen())
    try:
        await started.wait()

        def packets() -> Iterator[Packet]:
            for p in device.packets(preamble=False):
                if not session.streaming:
                    return
                yield p

        await play(packets(), link.send, realtime=realtime, speed=speed, duration_s=duration_s)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener
    return session
