"""A bleak client backend on a bumble central.

``BleakClient(address, backend=BumbleBleakClient, radio=radio)`` runs bleak's public API over
a :class:`~aura_sdk.ble.BumbleRadio`.

Behaviour follows bleak's BlueZ backend wherever bleak leaves room, because BlueZ is what
AURA devices (Linux boards, Jetsons) run in production:

* the disconnected callback runs on *every* disconnection, including one asked for with
  ``disconnect()`` (BlueZ and CoreBluetooth do; bleak's base class only promises unsolicited
  ones), scheduled on the event loop;
* an ATT error response becomes :class:`bleak.exc.BleakGATTProtocolError`; an operation cut
  short by a disconnection, ``BleakError``; nobody at the address, ``BleakDeviceNotFoundError``;
* the ATT MTU is exchanged during ``connect`` (``mtu=247`` by default, as BlueZ and Android
  request); ``mtu_size`` reports the negotiated value.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .._errors import ConfigError, MissingExtraError, TransportError

try:
    from bleak.args import SizedBuffer
    from bleak.assigned_numbers import CharacteristicPropertyName
    from bleak.backends.characteristic import BleakGATTCharacteristic
    from bleak.backends.client import BaseBleakClient, NotifyCallback
    from bleak.backends.descriptor import BleakGATTDescriptor
    from bleak.backends.device import BLEDevice
    from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
    from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("ble", "the bumble bleak backend", "bleak") from exc

try:
    from bumble import att, core, gatt, gatt_client
    from bumble.device import Connection
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sim", "the bumble bleak backend", "bumble") from exc

from ._radio import BumbleRadio
from ._scanner import BumbleDeviceDetails, reject_unknown, require_open
from ._uuids import from_bumble, to_bumble

__all__ = ["DEFAULT_MTU", "BumbleBleakClient", "bleak_client_kwargs"]

logger = logging.getLogger(__name__)

#: The ATT MTU requested on connect: 247 fills one LE data-length-extended packet (251 bytes).
DEFAULT_MTU = 247
_ATT_MIN_MTU = 23
_ATT_MAX_MTU = 517
_T = TypeVar("_T")

_PROPERTY_NAMES: tuple[tuple[int, CharacteristicPropertyName], ...] = (
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
)


def _property_names(properties: int) -> list[CharacteristicPropertyName]:
    return [name for bit, name in _PROPERTY_NAMES if properties & bit]


class BumbleBleakClient(BaseBleakClient):
    """bleak client backend that connects through a :class:`BumbleRadio`'s central.

    Not built by hand: pass it to bleak::

        client = BleakClient(address, backend=BumbleBleakClient, radio=radio, mtu=247)
        client = BleakClient(ble_device)  # ... from a BumbleBleakScanner: radio implied

    Args:
        address_or_ble_device: an address (``AA:BB:CC:DD:EE:FF``; a ``/P`` suffix marks a
            public address never heard in a scan) or a ``BLEDevice`` from
            :class:`~aura_sdk.ble.BumbleBleakScanner`.

    Keyword Args:
        radio (BumbleRadio): the open radio to connect through; optional for a ``BLEDevice``
            from a :class:`~aura_sdk.ble.BumbleBleakScanner`, which carries its radio.
        mtu (int): the ATT MTU to request on connect (23..517; 23 skips the exchange).
        services: bleak's service filter (discover only these service UUIDs).
        timeout (float): connect timeout, covering connection, MTU exchange and discovery.

    Raises:
        ConfigError: no radio, a bad ``mtu``, or an argument this backend does not know.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        radio: BumbleRadio | None = None,
        mtu: int = DEFAULT_MTU,
        services: set[str] | None = None,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        reject_unknown("BumbleBleakClient", kwargs)
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        details = (
            address_or_ble_device.details
            if isinstance(address_or_ble_device, BLEDevice)
            and isinstance(address_or_ble_device.details, BumbleDeviceDetails)
            else None
        )
        radio = radio if radio is not None else (details.radio if details else None)
        if not isinstance(radio, BumbleRadio):
            raise ConfigError("BumbleBleakClient needs radio=<an open BumbleRadio> (or a "
                              "BLEDevice from BumbleBleakScanner): BleakClient(address, "
                              "backend=BumbleBleakClient, radio=radio)")
        if not _ATT_MIN_MTU <= mtu <= _ATT_MAX_MTU:
            raise ConfigError(f"mtu must be within {_ATT_MIN_MTU}..{_ATT_MAX_MTU}, got {mtu}")
        self._radio = radio
        self._requested_mtu = mtu
        self._service_filter = sorted(services) if services else None
        self._peer_address = details.address if details else None
        self._advertised_name: str | None = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._gap_name: str | None = None
        self._connection: Connection | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    # --- properties ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The GAP device name read on connect, else the advertised name, else the address."""
        return self._gap_name or self._advertised_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23 before connecting or when no exchange happened)."""
        return self._connection.att_mtu if self._connection is not None else _ATT_MIN_MTU

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._connection is not None

    def _max_write_without_response(self) -> int:
        return self.mtu_size - 3

    # --- connection ----------------------------------------------------------------------
    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the MTU, optionally pair, and discover services.

        Raises:
            BleakDeviceNotFoundError: nothing at the address accepted within the timeout.
            TimeoutError: the link came up but setup did not finish within the timeout.
            BleakBluetoothNotAvailableError: the radio is not open.
            BleakError: the link failed.
        """
        timeout = float(kwargs.pop("timeout", self._timeout))
        reject_unknown("BumbleBleakClient.connect", kwargs)
        if self._connection is not None:
            return
        require_open(self._radio)
        address = self._peer_address or self._radio.resolve_address(self.address)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            connection = await self._radio.connect(address, timeout=timeout)
        except TimeoutError as exc:
            raise BleakDeviceNotFoundError(
                self.address, f"{exc}: is it powered, advertising and in range?"
            ) from exc
        except TransportError as exc:
            raise BleakError(str(exc)) from exc
        self._connection = connection
        self._gap_name = None
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            # Setup gets what is left of the timeout, but never less than a second: the
            # link is already up and the peer is answering.
            async with asyncio.timeout_at(max(deadline, loop.time() + 1.0)):
                client = connection.gatt_client
                if self._requested_mtu > _ATT_MIN_MTU:
                    await self._guard("MTU exchange", client.request_mtu(self._requested_mtu))
                if pair:
                    await self._guard("pairing", connection.pair())
                self.services = await self._discover(client)
                self._gap_name = await self._read_gap_name(client)
        except BaseException:
            await self._drop()
            raise
        logger.debug("%s: connected, ATT MTU %d", self.address, self.mtu_size)

    async def _discover(self, client: gatt_client.Client) -> BleakGATTServiceCollection:
        uuids = [to_bumble(u) for u in self._service_filter] if self._service_filter else []
        collection = BleakGATTServiceCollection()
        for service in await self._guard("service discovery", client.discover_services(uuids)):
            bleak_service = BleakGATTService(service, service.handle, from_bumble(service.uuid))
            collection.add_service(bleak_service)
            characteristics = await self._guard("characteristic discovery",
                                                service.discover_characteristics())
            for char in characteristics:
                bleak_char = BleakGATTCharacteristic(
                    char, char.handle, from_bumble(char.uuid), _property_names(char.properties),
                    self._max_write_without_response, bleak_service,
                )
                collection.add_characteristic(bleak_char)
                descriptors = await self._guard("descriptor discovery",
                                                char.discover_descriptors())
                for desc in descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, from_bumble(desc.type), bleak_char)
                    )
        return collection

    async def _read_gap_name(self, client: gatt_client.Client) -> str | None:
        try:
            values = await self._guard("device name read", client.read_characteristics_by_uuid(
                gatt.GATT_DEVICE_NAME_CHARACTERISTIC, None
            ))
        except BleakGATTProtocolError as exc:
            logger.debug("%s: no GAP device name: %s", self.address, exc)
            return None
        return values[0].decode("utf-8", errors="replace") if values else None

    async def disconnect(self) -> None:
        """Disconnect; returns once the link is down (a no-op when not connected)."""
        connection = self._connection
        if connection is None:
            return
        try:
            await asyncio.wait_for(connection.disconnect(), timeout=max(self._timeout, 1.0))
        except (core.BaseBumbleError, TimeoutError) as exc:
            if self._connection is not None:
                raise BleakError(f"{self.address}: disconnect failed: {exc}") from exc

    async def _drop(self) -> None:
        with contextlib.suppress(Exception):
            await self.disconnect()

    def _on_disconnection(self, reason: int) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        connection.remove_listener(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        logger.debug("%s: disconnected (reason 0x%02X)", self.address, reason)
        self._subscribers.clear()
        self.services = None
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pair (LE Secure Connections / legacy, Just Works) over the current connection.

        Raises:
            BleakError: not connected, or pairing failed.
        """
        if args or kwargs:
            raise ConfigError("BumbleBleakClient.pair takes no arguments")
        connection = self._require_connection()
        await self._guard("pairing", connection.pair())

    async def unpair(self) -> None:
        """Forget the peer's keys and disconnect."""
        central = await self._radio.central()
        address = self._peer_address or self._radio.resolve_address(self.address)
        if central.keystore is not None:
            with contextlib.suppress(KeyError):
                await central.keystore.delete(str(address))
        await self.disconnect()

    # --- GATT ----------------------------------------------------------------------------
    def _require_connection(self) -> Connection:
        if self._connection is None:
            raise BleakError("Not connected")
        return self._connection

    async def _guard(self, what: str, awaitable: Awaitable[_T]) -> _T:
        """Await a bumble operation, translating its errors into bleak's."""
        try:
            return await awaitable
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except core.TimeoutError as exc:
            raise TimeoutError(f"{self.address}: {what} timed out") from exc
        except asyncio.CancelledError:
            # bumble cancels a pending ATT request when the link drops; only a cancellation
            # of our own task is a real cancellation.
            task = asyncio.current_task()
            if self._connection is None and task is not None and task.cancelling() == 0:
                raise BleakError(f"{self.address}: disconnected during {what}") from None
            raise
        except core.BaseBumbleError as exc:
            raise BleakError(f"{self.address}: {what} failed: {exc}") from exc

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Read a characteristic value (a long value is read with Read Blob)."""
        reject_unknown("BumbleBleakClient.read_gatt_char", kwargs)
        return await self._read(characteristic.handle, use_cached)

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any,
    ) -> bytearray:
        """Read a descriptor value."""
        reject_unknown("BumbleBleakClient.read_gatt_descriptor", kwargs)
        return await self._read(descriptor.handle, use_cached)

    async def _read(self, handle: int, use_cached: bool) -> bytearray:
        client = self._require_connection().gatt_client
        if use_cached and handle in client.cached_values:
            return bytearray(client.cached_values[handle][1])
        value = await self._guard(f"read of handle 0x{handle:04X}", client.read_value(handle))
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write a characteristic value, with response (a request) or without (a command).

        Raises:
            BleakError: a write without response longer than ATT_MTU - 3.
            BleakGATTProtocolError: the peripheral answered a request with an error.
        """
        value = bytes(data)
        client = self._require_connection().gatt_client
        if not response and len(value) > self._max_write_without_response():
            raise BleakError(
                f"{len(value)} bytes exceed max_write_without_response_size "
                f"({self._max_write_without_response()}); use response=True for a long write"
            )
        await self._guard(f"write to {characteristic.uuid}",
                          client.write_value(characteristic.handle, value, with_response=response))

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        """Write a descriptor value (always a write request)."""
        client = self._require_connection().gatt_client
        await self._guard(f"write to descriptor 0x{descriptor.handle:04X}",
                          client.write_value(descriptor.handle, bytes(data), with_response=True))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any,
    ) -> None:
        """Enable notifications (indications if the characteristic only indicates).

        ``callback`` gets each value as a ``bytearray``, in arrival order.

        Raises:
            BleakError: the characteristic cannot notify, has no CCCD, or is already started.
        """
        reject_unknown("BumbleBleakClient.start_notify", kwargs)
        client = self._require_connection().gatt_client
        proxy = characteristic.obj
        if not isinstance(proxy, gatt_client.CharacteristicProxy):
            raise BleakError(f"{characteristic.uuid} was not discovered by this backend")
        if not {"notify", "indicate"} & set(characteristic.properties):
            raise BleakError(f"characteristic {characteristic.uuid} neither notifies nor "
                             "indicates")
        if characteristic.handle in self._subscribers:
            raise BleakError(f"notifications on {characteristic.uuid} are already started")
        if proxy.get_descriptor(gatt.GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR) is None:
            raise BleakError(f"characteristic {characteristic.uuid} has no CCCD (0x2902)")

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = deliver
        try:
            await self._guard(f"start_notify on {characteristic.uuid}",
                              client.subscribe(proxy, deliver, prefer_notify=True))
        except BaseException:
            self._subscribers.pop(characteristic.handle, None)
            with contextlib.suppress(Exception):
                await client.unsubscribe(proxy, deliver)
            raise

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Disable notifications: writes 0 to the CCCD and drops the callback.

        Raises:
            BleakError: notifications were not started on this characteristic.
        """
        client = self._require_connection().gatt_client
        deliver = self._subscribers.pop(characteristic.handle, None)
        if deliver is None:
            raise BleakError(f"notifications on {characteristic.uuid} were not started")
        proxy = characteristic.obj
        await self._guard(f"stop_notify on {characteristic.uuid}",
                          client.unsubscribe(proxy, deliver))


def bleak_client_kwargs(radio: BumbleRadio, *, mtu: int = DEFAULT_MTU) -> dict[str, Any]:
    """Keyword arguments that point ``BleakClient`` at ``radio``.

    Example::

        async with BleakClient(address, **bleak_client_kwargs(radio)) as client: ...
    """
    return {"backend": BumbleBleakClient, "radio": radio, "mtu": mtu}
