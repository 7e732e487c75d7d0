"""Replay of a recording as a sample source: no link and no decoder, samples come out directly."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from aura_bridge import DeviceProfile, ImuSamples

from .._errors import ConfigError
from .._recording import Recording, read_recording

__all__ = ["PlayedSource", "ReplaySource", "wait_until"]


async def wait_until(due: float | None, timeout: float) -> bool:
    """Wait for host time ``due`` (``None``: as fast as possible, only yield to the loop).
    Returns ``False``, after waiting ``timeout``, when ``due`` is further away than that (the
    caller says "nothing yet" and is called again)."""
    if due is None:
        await asyncio.sleep(0)
        return True
    delay = due - time.monotonic()
    if delay > timeout:
        await asyncio.sleep(timeout)
        return False
    if delay > 0:
        await asyncio.sleep(delay)
    return True


class PlayedSource:
    """What a source that plays stored samples shares (a recording, a robot log): no device
    profile, a gravity convention it is told, an end."""

    profile: DeviceProfile | None = None

    def __init__(self, gravity_removed: bool) -> None:
        self._gravity_removed = gravity_removed
        self._done = False

    @property
    def gravity_removed(self) -> bool:
        return self._gravity_removed

    @property
    def finished(self) -> bool:
        return self._done

    async def close(self) -> None:
        return None


class ReplaySource(PlayedSource):
    """Replay a recording (``aura decode`` CSV, NPZ, or a :class:`Recording`).

    Args:
        recording: the recording or its path.
        realtime: deliver samples when their time comes (``False``: as fast as possible).
        speed: real-time speed factor.
        chunk_s: how much time each delivered batch covers (a device's notification size).
        gravity_removed: the recording's gravity convention (recordings are SI).
        loop: start again at the end.
    """

    def __init__(self, recording: Recording | str, *, realtime: bool = True, speed: float = 1.0,
                 chunk_s: float = 0.04, gravity_removed: bool = False, loop: bool = False,
                 name: str | None = None) -> None:
        super().__init__(gravity_removed)
        self.recording = read_recording(recording) if isinstance(recording, str) else recording
        if len(self.recording) < 2:
            raise ConfigError("a replay needs at least two samples")
        self.name = name or (recording if isinstance(recording, str) else "replay")
        self.realtime = realtime
        self.speed = speed
        self.loop = loop
        rate = self.recording.nominal_rate_hz()
        # a median period of 0.019999999999999997 s is a 50 Hz device, as it would declare
        # itself (and at the model's rate the resampler then passes the samples through)
        whole = round(rate, 6)
        self._rate = whole if abs(rate - whole) <= 1e-9 * rate else rate
        self._chunk = max(1, round(chunk_s * self._rate))
        self._pos = 0
        self._lap = 0
        self._start: float | None = None

    @property
    def nominal_rate_hz(self) -> float:
        return self._rate

    async def open(self) -> None:
        self._start = time.monotonic()

    def host_time(self, t: np.ndarray) -> np.ndarray:
        """Host time of replay time ``t``: when it is (or, replaying fast, would be) played."""
        start = self._start if self._start is not None else 0.0
        return start + np.asarray(t, dtype=np.float64) / (self.speed if self.realtime else 1.0)

    async def next_batch(self, timeout: float) -> tuple[list[ImuSamples], float]:
        rec = self.recording
        if self._done:
            return [], time.monotonic()
        a, b = self._pos, min(self._pos + self._chunk, len(rec))
        span = rec.duration_s + 1.0 / self._rate
        t = rec.t[a:b] - rec.t[0] + self._lap * span
        due = None
        if self.realtime:
            assert self._start is not None
            due = self._start + float(t[-1]) / self.speed
        if not await wait_until(due, timeout):
            return [], time.monotonic()
        batch = ImuSamples(acc=rec.acc[a:b], gyro=rec.gyro[a:b], t=np.asarray(t, float))
        self._pos = b
        if self._pos >= len(rec):
            if self.loop:
                self._pos = 0
                self._lap += 1
            else:
                self._done = True
        return [batch], time.monotonic()
