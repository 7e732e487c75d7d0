"""Sample sources for live recognition: device links (serial, TCP, BLE) and replays.

Every source answers ``await next_batch(timeout)`` with the samples that arrived and the host
time they arrived at, raises :class:`~aura_sdk.TransportError` when the link is lost, and owns
its resources (``open``/``close``). Byte links decode through the device profile's decoder
from :mod:`aura_bridge.devices`; a replay yields samples directly. Optional dependencies
(pyserial, bleak) are imported only inside the source that needs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from aura_bridge import Decoder, DeviceProfile, ImuSamples
from aura_bridge.devices import get_profile, make_decoder

from .._errors import ConfigError, MissingExtraError, TransportError
from .._recording import Recording, read_recording

__all__ = ["BleLink", "ByteLink", "DecodedSource", "ReplaySource", "SampleSource", "SerialLink",
           "TcpLink", "device_profile"]

logger = logging.getLogger(__name__)

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(/P)?$|^[0-9A-Fa-f-]{36}$")


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

    async def next_batch(self, timeout: float) -> tuple[list[ImuSamples], float]:
        chunks = await self.link.read(timeout)
        arrival = time.monotonic()
        out: list[ImuSamples] = []
        for c in chunks:
            out.extend(s for s in self.decoder.feed(c) if isinstance(s, ImuSamples))
        return out, arrival

    async def close(self) -> None:
        await self.link.close()


class SerialLink:
    """A serial port through pyserial (any ``serial_for_url`` URL works, e.g. ``loop://``).

    Reads run in a worker thread with a short timeout so the event loop never blocks.
    """

    def __init__(self, port: str, baudrate: int = 115200, read_size: int = 4096) -> None:
        self.name = port
        self.port = port
        self.baudrate = baudrate
        self.read_size = read_size
        self._ser: Any = None

    async def open(self) -> None:
        try:
            import serial
        except ModuleNotFoundError as exc:
            raise MissingExtraError("serial", "serial devices", "pyserial") from exc
        try:
            self._ser = await asyncio.to_thread(serial.serial_for_url, self.port,
                                                baudrate=self.baudrate, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open the serial port: {exc}; check the path and that "
                                 "no other program holds it", device=self.port) from exc

    async def read(self, timeout: float) -> list[bytes]:
        import serial

        ser = self._ser
        if ser is None:
            raise TransportError("the port is not open", device=self.port)
        deadline = time.monotonic() + timeout
        try:
            while True:
                data = await asyncio.to_thread(ser.read, self.read_size)
                if data:
                    return [bytes(data)]
                if time.monotonic() >= deadline:
                    return []
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # pyserial raises SerialException (or OSError / TypeError from a closed fd) when
            # the device goes away
            raise TransportError(f"the serial device stopped answering: {exc}",
                                 device=self.port) from exc

    async def write(self, data: bytes) -> None:
        import serial

        try:
            await asyncio.to_thread(self._ser.write, data)
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"write failed: {exc}", device=self.port) from exc

    async def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(ser.close)


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


class BleLink:
    """A BLE device through bleak: scan by name (or take an address), connect, subscribe to the
    profile's notify characteristics, send its start commands to the control characteristic.

    Args:
        target: advertised local name, or a device address.
        profile: the device profile (UUIDs, commands).
        scan_timeout_s: how long to look for ``target``.
        client_backend, scanner_backend: bleak backend classes (``None``: the platform's; e.g.
            :class:`aura_sdk.ble.BumbleBleakClient` to use bumble).
        backend_kwargs: extra keyword arguments for the bleak backends.
    """

    def __init__(self, target: str, profile: DeviceProfile, *, scan_timeout_s: float = 10.0,
                 client_backend: Any = None, scanner_backend: Any = None,
                 backend_kwargs: Mapping[str, Any] | None = None) -> None:
        if profile.transport != "ble" or not profile.notify_uuids:
            raise ConfigError(f"device profile {profile.name!r} is not a BLE profile")
        self.name = target
        self.target = target
        self.profile = profile
        self.scan_timeout_s = scan_timeout_s
        self.client_backend = client_backend
        self.scanner_backend = scanner_backend
        self.backend_kwargs = dict(backend_kwargs or {})
        self._client: Any = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._lost = False
        self.mtu: int | None = None

    async def open(self) -> None:
        try:
            from bleak import BleakClient, BleakScanner
            from bleak.exc import BleakError
        except ModuleNotFoundError as exc:
            raise MissingExtraError("ble", "BLE devices", "bleak") from exc
        self._queue = asyncio.Queue()
        self._lost = False
        kw = dict(self.backend_kwargs)
        try:
            device: Any = self.target
            if not _ADDRESS.match(self.target):
                device = await BleakScanner.find_device_by_name(
                    self.target, timeout=self.scan_timeout_s, backend=self.scanner_backend, **kw)
                if device is None:
                    raise TransportError(
                        f"no BLE device advertising the name {self.target!r} was found within "
                        f"{self.scan_timeout_s:g} s; check it is on, advertising and in range",
                        device=self.target)
            client = BleakClient(device, disconnected_callback=self._on_disconnect,
                                 backend=self.client_backend, **kw)
            await client.connect()
            self._client = client
            self.mtu = int(getattr(client, "mtu_size", 23))
            for uuid in self.profile.notify_uuids:
                await client.start_notify(uuid, self._on_notify)
            if self.profile.control_uuid:
                for cmd in self.profile.start_commands:
                    await client.write_gatt_char(self.profile.control_uuid, cmd, response=True)
        except (BleakError, OSError, TimeoutError) as exc:
            await self.close()
            raise TransportError(f"BLE connection failed: {exc}", device=self.target) from exc

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        self._queue.put_nowait(bytes(data))

    def _on_disconnect(self, _client: Any) -> None:
        self._lost = True
        self._queue.put_nowait(b"")  # wake a waiting reader

    async def read(self, timeout: float) -> list[bytes]:
        out: list[bytes] = []
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout)
            out.append(first)
        except TimeoutError:
            pass
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        notes = [n for n in out if n]
        if self._lost and not notes:
            raise TransportError("the BLE device disconnected", device=self.target)
        return notes

    async def write(self, data: bytes) -> None:
        if self._client is None or not self.profile.control_uuid:
            raise TransportError("not connected or no control characteristic",
                                 device=self.target)
        await self._client.write_gatt_char(self.profile.control_uuid, data, response=True)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                if self.profile.control_uuid and self.profile.stop_commands and not self._lost:
                    for cmd in self.profile.stop_commands:
                        await client.write_gatt_char(self.profile.control_uuid, cmd,
                                                     response=True)
            with contextlib.suppress(Exception):
                await client.disconnect()


class ReplaySource:
    """Replay a recording (``aura decode`` CSV, NPZ, or a :class:`Recording`).

    Args:
        recording: the recording or its path.
        realtime: deliver samples when their time comes (``False``: as fast as possible).
        speed: real-time speed factor.
        chunk_s: how much time each delivered batch covers (a device's notification size).
        gravity_removed: the recording's gravity convention (recordings are SI).
        loop: start again at the end.
    """

    profile: DeviceProfile | None = None

    def __init__(self, recording: Recording | str, *, realtime: bool = True, speed: float = 1.0,
                 chunk_s: float = 0.04, gravity_removed: bool = False, loop: bool = False,
                 name: str | None = None) -> None:
        self.recording = read_recording(recording) if isinstance(recording, str) else recording
        if len(self.recording) < 2:
            raise ConfigError("a replay needs at least two samples")
        self.name = name or (recording if isinstance(recording, str) else "replay")
        self.realtime = realtime
        self.speed = speed
        self.loop = loop
        self._gravity_removed = gravity_removed
        self._rate = self.recording.nominal_rate_hz()
        self._chunk = max(1, round(chunk_s * self._rate))
        self._pos = 0
        self._lap = 0
        self._start: float | None = None
        self._done = False

    @property
    def nominal_rate_hz(self) -> float:
        return self._rate

    @property
    def gravity_removed(self) -> bool:
        return self._gravity_removed

    @property
    def finished(self) -> bool:
        return self._done

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
        if self.realtime:
            assert self._start is not None
            due = self._start + float(t[-1]) / self.speed
            delay = due - time.monotonic()
            if delay > timeout:
                await asyncio.sleep(timeout)
                return [], time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)
        batch = ImuSamples(acc=rec.acc[a:b], gyro=rec.gyro[a:b], t=np.asarray(t, float))
        self._pos = b
        if self._pos >= len(rec):
            if self.loop:
                self._pos = 0
                self._lap += 1
            else:
                self._done = True
        return [batch], time.monotonic()

    async def close(self) -> None:
        return None
