"""A virtual BLE IMU: a bumble peripheral that advertises and serves a device profile's GATT.

:class:`VirtualPeripheral` is what ``aura simulate --ble`` and the BLE tests put on a
:class:`~aura_sdk.ble.BumbleRadio`: it advertises a local name and a service UUID (legacy,
connectable, scannable advertising; the name moves to the scan response when it does not fit
beside the UUID in 31 bytes, as on real devices), serves one primary service with notify
characteristics and an optional control characteristic, sends notifications to subscribed
centrals, and re-advertises after every disconnection so a central can reconnect.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .._errors import ConfigError, MissingExtraError, TransportError

try:
    from bumble import att, core, hci
    from bumble.device import AdvertisingType, Connection, Device
    from bumble.gatt import Characteristic, CharacteristicValue, Service
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sim", "aura_sdk.ble.VirtualPeripheral", "bumble") from exc

from ._radio import BumbleRadio
from ._uuids import canonical_uuid, to_bumble

if TYPE_CHECKING:
    from aura_bridge import DeviceProfile

__all__ = ["ControlHandler", "VirtualPeripheral", "advertising_payloads"]

logger = logging.getLogger(__name__)

#: Called with the bytes of every write to the control characteristic; may be async.
ControlHandler = Callable[[bytes], Awaitable[None] | None]

_LEGACY_AD_MAX = 31
_CLOSE_TIMEOUT_S = 2.0
_FLAGS_LE_GENERAL_NO_BREDR = 0x06


def _ad(ad_type: int, payload: bytes) -> bytes:
    return bytes([len(payload) + 1, ad_type]) + payload


def advertising_payloads(name: str, service_uuid: str) -> tuple[bytes, bytes]:
    """Legacy advertising data and scan response for a local name and one service UUID.

    The advertising data holds the flags, the service UUID and the complete name when all fit
    in 31 bytes; otherwise the complete name goes to the scan response and the advertising
    data keeps as much of it as fits as a shortened name.

    Raises:
        ConfigError: the name does not fit in a scan response (29 bytes of UTF-8).
    """
    uuid = to_bumble(service_uuid)
    uuid_type = (
        core.AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS
        if len(uuid.to_bytes()) == 2
        else core.AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS
    )
    head = _ad(core.AdvertisingData.FLAGS, bytes([_FLAGS_LE_GENERAL_NO_BREDR])) + _ad(
        uuid_type, uuid.to_bytes()
    )
    encoded = name.encode("utf-8")
    if len(encoded) > _LEGACY_AD_MAX - 2:
        raise ConfigError(f"local name {name!r} is {len(encoded)} bytes; a legacy "
                          f"advertisement holds at most {_LEGACY_AD_MAX - 2}")
    complete = _ad(core.AdvertisingData.COMPLETE_LOCAL_NAME, encoded)
    if len(head) + len(complete) <= _LEGACY_AD_MAX:
        return head + complete, b""
    room = _LEGACY_AD_MAX - len(head) - 2
    short = encoded[:room].decode("utf-8", errors="ignore").encode("utf-8") if room > 0 else b""
    if short:
        head += _ad(core.AdvertisingData.SHORTENED_LOCAL_NAME, short)
    return head, complete


class VirtualPeripheral:
    """A bumble peripheral that looks like a BLE IMU to any central on the radio.

    Args:
        radio: the air to advertise on (virtual, or a real controller).
        name: the advertised local name (also the GAP device name).
        service_uuid: the primary service.
        notify_uuids: its notify characteristics (notify + read; a read returns the last
            value notified).
        control_uuid: an optional control characteristic (write and write-without-response);
            every write is recorded in :attr:`control_writes` and passed to ``on_control``.
        on_control: called with each control write; may be async. If it raises, a write with
            response gets ATT error 0x0E (unlikely error).
        start_commands, stop_commands: control writes that, once ``on_control`` accepted them
            (returned without raising), switch :attr:`streaming` on / off.
        address: a random static address; the radio allocates one when omitted.
        max_mtu: the largest ATT MTU this peripheral accepts in an MTU exchange.
        rssi_dbm: on a virtual radio, the RSSI centrals report for it.
        advertising_interval_ms: advertising interval (20 ms is the legal minimum).
        readvertise: advertise again whenever the last central disconnects.
    """

    def __init__(
        self,
        radio: BumbleRadio,
        *,
        name: str,
        service_uuid: str,
        notify_uuids: Iterable[str],
        control_uuid: str | None = None,
        on_control: ControlHandler | None = None,
        start_commands: Iterable[bytes] = (),
        stop_commands: Iterable[bytes] = (),
        address: str | None = None,
        max_mtu: int = 247,
        rssi_dbm: int = -50,
        advertising_interval_ms: float = 20.0,
        readvertise: bool = True,
    ) -> None:
        self._radio = radio
        self.name = name
        self.service_uuid = canonical_uuid(service_uuid)
        self.notify_uuids = tuple(canonical_uuid(u) for u in notify_uuids)
        self.control_uuid = None if control_uuid is None else canonical_uuid(control_uuid)
        if not self.notify_uuids:
            raise ConfigError("a VirtualPeripheral needs at least one notify characteristic")
        if len(set(self.notify_uuids)) != len(self.notify_uuids) or self.service_uuid in {
            *self.notify_uuids, self.control_uuid
        }:
            raise ConfigError(f"notify characteristics must be distinct from each other and "
                              f"from the service: {self.notify_uuids}")
        if not 23 <= max_mtu <= 517:
            raise ConfigError(f"max_mtu must be within 23..517 (ATT), got {max_mtu}")
        if not 20.0 <= advertising_interval_ms <= 10_240.0:
            raise ConfigError("advertising_interval_ms must be within 20..10240")
        self._adv_data, self._scan_response = advertising_payloads(name, self.service_uuid)
        self._on_control = on_control
        self._start_commands = frozenset(bytes(c) for c in start_commands)
        self._stop_commands = frozenset(bytes(c) for c in stop_commands)
        self._address = address
        self._max_mtu = max_mtu
        self._rssi_dbm = rssi_dbm
        self._interval_ms = advertising_interval_ms
        self._readvertise = readvertise

        self.control_writes: list[bytes] = []
        self.streaming = False
        self._device: Device | None = None
        self._characteristics: dict[str, Characteristic] = {}
        self._subscribers: dict[int, set[Connection]] = {}
        self._last_values: dict[int, bytes] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._state_event: asyncio.Event | None = None

    @classmethod
    def from_profile(
        cls, radio: BumbleRadio, profile: DeviceProfile, *, name: str | None = None,
        **kwargs: object,
    ) -> VirtualPeripheral:
        """A peripheral serving a BLE :class:`aura_bridge.DeviceProfile`'s GATT layout.

        The profile's start / stop commands switch :attr:`streaming`. Other keyword arguments
        go to the constructor.

        Raises:
            ConfigError: the profile is not a BLE profile with a service UUID.
        """
        if profile.transport != "ble" or profile.service_uuid is None:
            raise ConfigError(f"device profile {profile.name!r} is not a BLE GATT profile "
                              f"(transport={profile.transport!r})")
        return cls(
            radio,
            name=name or profile.name,
            service_uuid=profile.service_uuid,
            notify_uuids=profile.notify_uuids,
            control_uuid=profile.control_uuid,
            start_commands=profile.start_commands,
            stop_commands=profile.stop_commands,
            **kwargs,  # type: ignore[arg-type]
        )

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Attach to the radio, serve the GATT service and start advertising."""
        if self._device is not None:
            return
        self._state_event = asyncio.Event()
        device = await self._radio.attach(self.name, address=self._address,
                                          rssi_dbm=self._rssi_dbm)
        self._device = device
        try:
            await self._serve(device)
        except BaseException:
            await self.close()
            raise

    async def _serve(self, device: Device) -> None:
        device.gatt_server.max_mtu = self._max_mtu
        characteristics: list[Characteristic] = []
        uuids = list(self.notify_uuids)
        if self.control_uuid is not None and self.control_uuid not in uuids:
            uuids.append(self.control_uuid)
        for u in uuids:
            # A control point may also notify (the AURA and Polar control points answer
            # commands that way): one characteristic then carries both roles. bumble does
            # not enforce permissions, so the value callbacks refuse what is not allowed.
            properties = Characteristic.Properties(0)
            permissions = Characteristic.Permissions(0)
            if u in self.notify_uuids:
                properties |= Characteristic.Properties.NOTIFY | Characteristic.Properties.READ
                permissions |= Characteristic.READABLE
            if u == self.control_uuid:
                properties |= (Characteristic.Properties.WRITE
                               | Characteristic.Properties.WRITE_WITHOUT_RESPONSE)
                permissions |= Characteristic.WRITEABLE
            value = CharacteristicValue(read=functools.partial(self._on_read, u),
                                        write=functools.partial(self._on_write, u))
            char: Characteristic = Characteristic(to_bumble(u), properties, permissions, value)
            self._characteristics[u] = char
            characteristics.append(char)
        device.add_service(Service(to_bumble(self.service_uuid), characteristics))
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        device.on("characteristic_subscription", self._on_subscription)
        await self._advertise()

    async def close(self) -> None:
        """Stop advertising, drop connections, cancel owned tasks and leave the radio."""
        self._closing = True
        tasks = list(self._tasks)
        if tasks:
            # Let a re-advertising finish: cancelling bumble in the middle of an HCI command
            # leaves its host waiting on a dead future, which then fails when the reply lands.
            _, late = await asyncio.wait(tasks, timeout=_CLOSE_TIMEOUT_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        device, self._device = self._device, None
        self._closing = False
        if device is not None:
            device.remove_listener(Device.EVENT_CONNECTION, self._on_connection)
            await self._radio.detach(device)
        self._subscribers.clear()
        self._changed()  # wake waiters; with no event left they report the closure
        self._state_event = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _require_device(self) -> Device:
        if self._device is None:
            raise TransportError("the peripheral is not started: use `async with "
                                 "VirtualPeripheral(...)`", device=self.name)
        return self._device

    # --- state -----------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """The peripheral's address as a central sees it (``AA:BB:CC:DD:EE:FF``)."""
        device = self._require_device()
        return device.random_address.to_string(with_type_qualifier=False)

    @property
    def connection_count(self) -> int:
        """How many centrals are connected."""
        return 0 if self._device is None else len(self._device.connections)

    @property
    def is_advertising(self) -> bool:
        """Whether the peripheral is advertising now."""
        return self._device is not None and bool(self._device.is_advertising)

    @property
    def mtus(self) -> list[int]:
        """The ATT MTU of each current connection."""
        if self._device is None:
            return []
        return [c.att_mtu for c in self._device.connections.values()]

    def subscriber_count(self, char_uuid: str) -> int:
        """How many connected centrals enabled notifications on ``char_uuid``."""
        char = self._characteristic(char_uuid)
        return len(self._subscribers.get(char.handle, ()))

    def _characteristic(self, char_uuid: str) -> Characteristic:
        key = canonical_uuid(char_uuid)
        if key not in self._characteristics:
            self._require_device()
            raise ConfigError(f"{self.name} has no characteristic {key}; it serves "
                              f"{sorted(self._characteristics)}")
        return self._characteristics[key]

    def _changed(self) -> None:
        # Wake every waiter; each re-checks its condition against the new state.
        if self._state_event is not None:
            self._state_event.set()
            self._state_event = asyncio.Event()

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    if self._state_event is None:
                        raise TransportError("the peripheral is not running", device=self.name)
                    await self._state_event.wait()
        except TimeoutError:
            raise TimeoutError(f"{self.name}: {what} did not happen within {timeout:g} s") from None

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` centrals are connected.

        Raises:
            TimeoutError: not within ``timeout`` seconds.
        """
        await self._wait_until(lambda: self.connection_count >= count, timeout,
                               f"{count} connection(s)")

    async def wait_disconnected(self, timeout: float = 5.0) -> None:
        """Wait until no central is connected."""
        await self._wait_until(lambda: self.connection_count == 0, timeout, "disconnection")

    async def wait_subscribed(self, char_uuid: str, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` centrals have enabled notifications on ``char_uuid``."""
        await self._wait_until(lambda: self.subscriber_count(char_uuid) >= count, timeout,
                               f"subscription to {canonical_uuid(char_uuid)}")

    async def wait_advertising(self, timeout: float = 5.0) -> None:
        """Wait until the peripheral advertises (e.g. again, after a disconnection)."""
        await self._wait_until(lambda: self.is_advertising, timeout, "advertising")

    async def wait_streaming(self, streaming: bool = True, timeout: float = 5.0) -> None:
        """Wait until a start (or stop) command has been written to the control point."""
        await self._wait_until(lambda: self.streaming is streaming, timeout,
                               "start command" if streaming else "stop command")

    # --- actions ---------------------------------------------------------------------------
    async def notify(self, char_uuid: str, data: bytes) -> int:
        """Send one notification of ``data`` on ``char_uuid`` to every subscribed central.

        A notification carries at most ATT_MTU - 3 bytes; a larger ``data`` is refused for
        all centrals (none gets a truncated copy).

        Returns:
            How many centrals it was sent to (0 when nobody is subscribed).

        Raises:
            ConfigError: unknown characteristic, or ``data`` longer than ATT_MTU - 3 on the
                link to a subscribed central.
        """
        device = self._require_device()
        char = self._characteristic(char_uuid)
        if canonical_uuid(char_uuid) not in self.notify_uuids:
            raise ConfigError(f"{canonical_uuid(char_uuid)} is a write-only control "
                              "characteristic; it does not notify")
        payload = bytes(data)
        targets = [c for c in self._subscribers.get(char.handle, set())
                   if c.handle in device.connections]
        for connection in targets:
            limit = connection.att_mtu - 3
            if len(payload) > limit:
                raise ConfigError(
                    f"a notification of {len(payload)} bytes does not fit the link to "
                    f"{connection.peer_address}: ATT_MTU {connection.att_mtu} carries at most "
                    f"{limit}; split the frame or negotiate a larger MTU"
                )
        self._last_values[char.handle] = payload
        for connection in sorted(targets, key=lambda c: c.handle):
            await device.notify_subscriber(connection, char, payload)
        return len(targets)

    async def disconnect(self) -> int:
        """Drop every connection, as if the device were unplugged (it then re-advertises).

        Returns:
            How many connections were dropped.
        """
        device = self._require_device()
        connections = list(device.connections.values())
        for connection in connections:
            await connection.disconnect(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        return len(connections)

    async def stop_advertising(self) -> None:
        """Stop advertising (a central scanning now will not find the device)."""
        await self._require_device().stop_advertising()
        self._changed()

    async def start_advertising(self) -> None:
        """Advertise again after :meth:`stop_advertising`."""
        self._require_device()
        await self._advertise()

    async def _advertise(self) -> None:
        device = self._require_device()
        await device.start_advertising(
            advertising_type=AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE,
            advertising_data=self._adv_data,
            scan_response_data=self._scan_response,
            advertising_interval_min=self._interval_ms,
            advertising_interval_max=self._interval_ms,
        )
        self._changed()

    # --- bumble callbacks ------------------------------------------------------------------
    def _on_connection(self, connection: Connection) -> None:
        connection.on(Connection.EVENT_DISCONNECTION,
                      lambda reason: self._on_disconnection(connection, reason))
        connection.on(Connection.EVENT_CONNECTION_ATT_MTU_UPDATE, self._changed)
        self._changed()

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        logger.debug("%s: %s disconnected (reason 0x%02X)", self.name,
                     connection.peer_address, reason)
        for subscribers in self._subscribers.values():
            subscribers.discard(connection)
        self._changed()
        device = self._device
        if (self._readvertise and not self._closing and device is not None
                and not device.connections):
            task = asyncio.get_running_loop().create_task(self._readvertise_now())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _readvertise_now(self) -> None:
        try:
            await self._advertise()
        except (core.BaseBumbleError, hci.HCI_Error, TransportError) as exc:
            logger.warning("%s: could not advertise again after a disconnection: %s",
                           self.name, exc)

    def _on_subscription(self, connection: Connection, characteristic: Characteristic,
                         notify_enabled: bool, indicate_enabled: bool) -> None:
        subscribers = self._subscribers.setdefault(characteristic.handle, set())
        if notify_enabled:
            subscribers.add(connection)
        else:
            subscribers.discard(connection)
        self._changed()

    def _on_read(self, char_uuid: str, connection: Connection) -> bytes:
        if char_uuid not in self.notify_uuids:
            raise att.ATT_Error(att.ATT_READ_NOT_PERMITTED_ERROR)
        return self._last_values.get(self._characteristics[char_uuid].handle, b"")

    async def _on_write(self, char_uuid: str, connection: Connection, value: bytes) -> None:
        if char_uuid != self.control_uuid:
            raise att.ATT_Error(att.ATT_WRITE_NOT_PERMITTED_ERROR)
        data = bytes(value)
        self.control_writes.append(data)
        try:
            if self._on_control is not None:
                result = self._on_control(data)
                if inspect.isawaitable(result):
                    await result
        except Exception as exc:
            logger.exception("%s: control handler failed on %s", self.name, data.hex())
            raise att.ATT_Error(att.ATT_UNLIKELY_ERROR_ERROR) from exc
        finally:
            self._changed()
        # Only a command the handler accepted switches streaming.
        if data in self._start_commands:
            self.streaming = True
        elif data in self._stop_commands:
            self.streaming = False
        self._changed()
