"""What every live source shares: the source and link protocols, and a link plus its decoder.

A :class:`SampleSource` answers ``await next_batch(timeout)`` with the samples that arrived and
the host time they arrived at, raises :class:`~aura_sdk.TransportError` when the link is lost,
and owns its resources (``open`` / ``close``). A transport (serial, TCP, BLE: one module each)
is a :class:`ByteLink` that only moves bytes; :class:`DecodedSource` turns one into a sample
source through the device profile's decoder from :mod:`aura_bridge.devices`. A replay
(``_replay``) yields samples directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from aura_bridge import Decoder, DeviceProfile, ImuSamples
from aura_bridge.devices import get_profile, make_decoder

from .._errors import ConfigError, TransportError

__all__ = ["ByteLink", "DecodedSource", "SampleSource", "device_profile", "watch_link"]


async def watch_link(gone: asyncio.Event, timeout: float, why: str, device: str) -> None:
    """What a pushing link's ``watch`` does: return after ``timeout`` seconds, or raise
    :class:`~aura_sdk.TransportError` (saying ``why``) as soon as ``gone`` is set."""
    if not gone.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gone.wait(), timeout)
    if gone.is_set():
        raise TransportError(why, device=device)


def device_profile(name: str) -> DeviceProfile:
    """The profile of a device name, as a :class:`ConfigError` when unknown."""
    try:
        return get_profile(name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


class SampleSource(Protocol):
    """Where a stream's samples come from."""

    name: str
    profile: DeviceProfile | None

    async def open(self) -> None: ...
    async def next_batch(self, timeout: float) -> tuple[list[ImuSamples], float]: ...
    async def close(self) -> None: ...
    @property
    def nominal_rate_hz(self) -> float: ...
    @property
    def gravity_removed(self) -> bool: ...
    @property
    def finished(self) -> bool: ...


class ByteLink(Protocol):
    """A device link that moves bytes (stream framing) or notifications (packet framing)."""

    name: str

    async def open(self) -> None: ...
    async def read(self, timeout: float) -> list[bytes]: ...
    async def write(self, data: bytes) -> None: ...
    async def close(self) -> None: ...


class DecodedSource:
    """A :class:`ByteLink` plus the device profile's decoder.

    Args:
        link: the byte link.
        device: profile name.
        options: decoder options.
        rate_hz: override of the nominal rate (when the device was configured differently).
    """

    def __init__(self, link: ByteLink, device: str, *, options: Mapping[str, Any] | None = None,
                 rate_hz: float | None = None) -> None:
        self.link = link
        self.name = link.name
        self.profile: DeviceProfile | None = device_profile(device)
        self.device = device
        self.options = dict(options or {})
        self._rate = rate_hz
        self.decoder: Decoder = self._make_decoder()

    def _make_decoder(self) -> Decoder:
        try:
            return make_decoder(self.device, **self.options)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    @property
    def nominal_rate_hz(self) -> float:
        if self._rate is not None:
            return self._rate
        hello = getattr(self.decoder, "config", None)
        rate = getattr(hello, "sample_rate_hz", None)
        assert self.profile is not None
        return float(rate) if rate else self.profile.sample_rate_hz

    @property
    def gravity_removed(self) -> bool:
        hello = getattr(self.decoder, "config", None)
        g = getattr(hello, "gravity_removed", None)
        assert self.profile is not None
        return bool(g) if g is not None else self.profile.gravity_removed

    @property
    def finished(self) -> bool:
        return False

    async def open(self) -> None:
        self.decoder = self._make_decoder()  # a fresh parser per connection
        await self.link.open()
        assert self.profile is not None
        for cmd in self.profile.start_commands:
            await self.link.write(cmd)

    @property
    def can_push(self) -> bool:
        """Whether the link can hand its bytes over as they arrive (:meth:`attach`; a link
        may say per connection, e.g. a serial port only when it has a descriptor)."""
        return callable(getattr(self.link, "attach", None)) and bool(
            getattr(self.link, "can_push", True))

    @property
    def can_poll(self) -> bool:
        """Whether the link can be opened polled (:meth:`set_polled`, TCP)."""
        return hasattr(self.link, "polled") and callable(getattr(self.link, "poll", None))

    def set_polled(self, polled: bool) -> None:
        """Open later connections polled: bytes are read only by :meth:`poll` (a gateway's
        tick reads every link once instead of a wake-up per packet; see the TCP link)."""
        self.link.polled = polled  # type: ignore[attr-defined]

    def poll(self, real_minus_mono: float) -> None:
        """Read what a polled link has and push it to the attached sink."""
        self.link.poll(real_minus_mono)  # type: ignore[attr-defined]

    def attach(self, sink: Callable[[bytes, float, float], None] | None) -> None:
        """Hand every chunk to ``sink`` with its arrival time as it arrives, undecoded (links
        with ``attach``, see :attr:`can_push`; decode them with :meth:`decode_chunks`);
        ``None`` detaches."""
        self.link.attach(sink)  # type: ignore[attr-defined]

    def decode_chunks(self, chunks: list[bytes]) -> tuple[list[ImuSamples], list[int] | None]:
        """Decode chunks that arrived one after another in one decoder call (a packet-framed
        profile's chunks, BLE notifications, one call each).

        Returns:
            the samples, and, when the decoder frames its bytes with 0x00 delimiters (the
            AURA stream) and merged every frame into one ImuSamples of equal-sized frames, how
            many frames each chunk completed (``None`` otherwise: which chunk completed
            which samples is then unknown).
        """
        dec = self.decoder
        assert self.profile is not None
        if self.profile.framing == "packet":  # each chunk is one packet: never join them
            return [s for c in chunks for s in dec.feed(c) if isinstance(s, ImuSamples)], None
        merging = hasattr(dec, "merge_frames")
        if merging:
            cast(Any, dec).merge_frames = True
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        got = [s for s in dec.feed(data) if isinstance(s, ImuSamples)]
        if not merging or len(got) != 1:
            return got, None
        return got, [c.count(0) for c in chunks]

    async def watch(self, timeout: float) -> None:
        """Wait ``timeout`` seconds on an attached link; raises
        :class:`~aura_sdk.TransportError` as soon as it is lost."""
        await self.link.watch(timeout)  # type: ignore[attr-defined]

    async def next_batch(self, timeout: float) -> tuple[list[ImuSamples], float]:
        chunks = await self.link.read(timeout)
        arrival = time.monotonic()
        out: list[ImuSamples] = []
        for c in chunks:
            out.extend(s for s in self.decoder.feed(c) if isinstance(s, ImuSamples))
        return out, arrival

    async def close(self) -> None:
        await self.link.close()
