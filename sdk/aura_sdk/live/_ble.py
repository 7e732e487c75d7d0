"""BLE transport: a byte link (:class:`~aura_sdk.live._base.ByteLink`) over bleak, imported
only here (extra ``ble``).

Each notification is one packet for the decoder. Any bleak backend works, including the bumble
one in :mod:`aura_sdk.ble` (no BLE stack needed; virtual devices for tests). Notifications are
pushed to an attached consumer as bleak delivers them (:meth:`BleLink.attach`, as the TCP and
serial links do), or queued for :meth:`BleLink.read`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from aura_bridge import DeviceProfile

from .._errors import ConfigError, MissingExtraError, TransportError
from ._base import watch_link

__all__ = ["BleLink"]

#: a pushed consumer: ``(bytes, host arrival time, time before which none of the bytes came)``
Push = Callable[[bytes, float, float], None]

# a Bluetooth address (bumble's "/P" suffix marks a public one) or a CoreBluetooth UUID;
# anything else is taken as an advertised name to scan for
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(/P)?$|^[0-9A-Fa-f-]{36}$")


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
        self._gone = asyncio.Event()
        self._push: Push | None = None
        self.mtu: int | None = None

    async def open(self) -> None:
        try:
            from bleak import BleakClient, BleakScanner
            from bleak.exc import BleakError
        except ModuleNotFoundError as exc:
            raise MissingExtraError("ble", "BLE devices", "bleak") from exc
        self._queue = asyncio.Queue()
        self._lost = False
        self._gone = asyncio.Event()
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
        push = self._push
        if push is not None:
            now = time.monotonic()
            push(bytes(data), now, now)
            return
        self._queue.put_nowait(bytes(data))

    def _on_disconnect(self, _client: Any) -> None:
        self._lost = True
        self._gone.set()
        self._queue.put_nowait(b"")  # wake a waiting reader

    def attach(self, push: Push | None) -> None:
        """Hand every later notification to ``push`` as it arrives (``None``: queue them for
        :meth:`read` again); queued ones go first."""
        self._push = push
        if push is not None:
            now = time.monotonic()
            while not self._queue.empty():
                note = self._queue.get_nowait()
                if note:
                    push(note, now, now)

    async def watch(self, timeout: float) -> None:
        """Return after ``timeout`` seconds, or raise :class:`TransportError` as soon as the
        device disconnects (for an attached consumer)."""
        await watch_link(self._gone, timeout, "the BLE device disconnected", self.target)

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
        self._push = None
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                if self.profile.control_uuid and self.profile.stop_commands and not self._lost:
                    for cmd in self.profile.stop_commands:
                        await client.write_gatt_char(self.profile.control_uuid, cmd,
                                                     response=True)
            with contextlib.suppress(Exception):
                await client.disconnect()
