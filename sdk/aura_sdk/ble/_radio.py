"""A bumble "radio": the air that bumble devices share, virtual or real.

A :class:`BumbleRadio` is either

* **virtual** (``BumbleRadio()``): a :class:`bumble.link.LocalLink` in this process. Every
  device attached to it gets its own software controller (:class:`AirController`) and its own
  address, and talks to the others with real HCI, link-layer, L2CAP, ATT and GATT, so a central
  and any number of :class:`~aura_sdk.ble.VirtualPeripheral` s can meet without hardware; or
* **hardware** (``BumbleRadio("usb:0")``): one real HCI controller reached through a bumble
  transport spec (``usb:0``, ``serial:/dev/ttyACM0,1000000``, ``tcp-client:host:port``,
  ``hci-socket:0``...). It hosts exactly one bumble device, so users without BlueZ (or with a
  dongle BlueZ must not touch) can still scan and connect.

The radio owns everything it starts: devices, controllers, HCI transports and servers; closing
it disconnects, stops advertising and scanning, and releases them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from types import TracebackType
from typing import Self

from .._errors import ConfigError, MissingExtraError, TransportError

try:
    from bumble import core, hci
    from bumble.device import Advertisement, Connection, Device
    from bumble.host import Host
    from bumble.link import LocalLink
    from bumble.transport import open_transport
    from bumble.transport.common import AsyncPipeSink, Transport
    from bumble.transport.tcp_server import open_tcp_server_transport_with_socket
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sim", "aura_sdk.ble (the bumble radio)", "bumble") from exc

from ._controller import AirController

__all__ = ["BumbleRadio"]

logger = logging.getLogger(__name__)

_CLOSE_STEP_TIMEOUT_S = 2.0


async def _close_server_transport(transport: Transport) -> None:
    # bumble's TCP server transport does not close its listening server, nor the accepted
    # connection, in close(): do both, or the sockets leak.
    sink_transport = getattr(transport.sink, "transport", None)
    if isinstance(sink_transport, asyncio.BaseTransport):
        sink_transport.close()
    server = getattr(transport, "server", None)
    if isinstance(server, asyncio.AbstractServer):
        server.close()
        await server.wait_closed()
    await transport.close()


def _bad_address(address: str | None) -> ConfigError:
    return ConfigError(f"{address!r} is not a Bluetooth address (AA:BB:CC:DD:EE:FF)")


def _address_key(address: hci.Address) -> str:
    return address.to_string(with_type_qualifier=False).upper()


class BumbleRadio:
    """The air that bumble devices share: a virtual link in this process, or one HCI controller.

    Args:
        transport: ``None`` for a virtual air (a :class:`bumble.link.LocalLink`); otherwise a
            bumble HCI transport spec such as ``"usb:0"`` or ``"tcp-client:127.0.0.1:9000"``.
        name: a label for logs and error messages.

    Use it as an async context manager (or call :meth:`open` / :meth:`close`)::

        async with BumbleRadio() as radio:
            ...
    """

    def __init__(self, transport: str | None = None, *, name: str = "aura-radio") -> None:
        if transport is not None and not transport.strip():
            raise ConfigError("transport must be a bumble transport spec such as 'usb:0', "
                              "or None for a virtual radio")
        self._spec = transport
        self.name = name
        self._link: LocalLink | None = None
        self._transport: Transport | None = None
        self._devices: list[Device] = []
        self._controllers: dict[Device, AirController] = {}
        self._servers: list[tuple[Transport, AirController]] = []
        self._central: Device | None = None
        self._central_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._scan_lock = asyncio.Lock()
        self._scanners: dict[object, bool] = {}
        self._scan_active: bool | None = None
        self._seen: dict[str, hci.Address] = {}
        self._next_address = 1
        self._open = False

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def is_virtual(self) -> bool:
        """Whether this radio is a virtual air rather than a real HCI controller."""
        return self._spec is None

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` has run and :meth:`close` has not."""
        return self._open

    async def open(self) -> None:
        """Create the virtual link, or open the HCI transport.

        Raises:
            TransportError: the HCI transport could not be opened.
        """
        if self._open:
            return
        if self._spec is None:
            self._link = LocalLink()
        else:
            try:
                self._transport = await open_transport(self._spec)
            except Exception as exc:  # bumble raises many types: OSError, ValueError, usb errors
                raise TransportError(
                    f"could not open the HCI transport {self._spec!r}: {exc}. Check the "
                    "controller is plugged in and not held by another stack (on Linux: "
                    "`sudo hciconfig hci0 down`), and that the spec is a bumble transport name",
                    device=self._spec,
                ) from exc
        self._open = True

    async def close(self) -> None:
        """Disconnect, stop advertising and scanning, power devices off, release transports.

        Safe to call twice.
        """
        if not self._open:
            return
        self._open = False
        for device in reversed(list(self._devices)):
            await self._shutdown_device(device)
        self._devices.clear()
        self._central = None
        self._scanners.clear()
        self._scan_active = None
        for transport, controller in self._servers:
            self._stop_controller(controller)
            await _close_server_transport(transport)
        self._servers.clear()
        if self._transport is not None:
            await self._transport.close()
            self._transport = None
        self._link = None

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _require_open(self) -> None:
        if not self._open:
            raise TransportError("the radio is not open: use `async with BumbleRadio(...)`",
                                 device=self.name)

    # --- devices -----------------------------------------------------------------------------
    def allocate_address(self) -> str:
        """A fresh random static address (``C0:00:00:00:xx:xx``) unique on this radio."""
        n = self._next_address
        self._next_address += 1
        return f"C0:00:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"

    async def attach(
        self, name: str, *, address: str | None = None, rssi_dbm: int = -50
    ) -> Device:
        """Attach a new powered-on bumble device to this air.

        Args:
            name: the device's GAP name.
            address: its random static address; when omitted, the next free
                ``C0:00:00:00:xx:xx`` on a virtual air, a random one on a real controller.
            rssi_dbm: on a virtual air, the RSSI others report when they hear it.

        Returns:
            The device, owned by the radio until :meth:`detach` or :meth:`close`.

        Raises:
            ConfigError: a bad address, or a second device on a hardware radio.
            TransportError: the radio is not open or the controller did not answer.
        """
        self._require_open()
        if address is None and self._link is None:
            # A real controller shares the air with devices we do not number: draw a random
            # static address, as the specification intends.
            own = hci.Address.generate_static_address()
        else:
            try:
                own = hci.Address(address or self.allocate_address(),
                                  hci.Address.RANDOM_DEVICE_ADDRESS)
            except (ValueError, core.InvalidArgumentError) as exc:
                raise _bad_address(address) from exc
        if self._link is not None:
            controller = AirController(name, link=self._link)
            controller.rssi_dbm = rssi_dbm
            host = Host(controller, AsyncPipeSink(controller))
            device = Device(name=name, address=own, host=host)
            self._controllers[device] = controller
        else:
            if self._devices:
                raise ConfigError(
                    f"the hardware radio {self._spec!r} already hosts a device: one HCI "
                    "controller is one device; open another radio for a second one"
                )
            assert self._transport is not None
            device = Device.with_hci(name, own, self._transport.source, self._transport.sink)
        self._devices.append(device)
        try:
            await asyncio.wait_for(device.power_on(), timeout=10.0)
        except Exception as exc:
            await self.detach(device)
            raise TransportError(f"the controller did not power on: {exc}", device=name) from exc
        return device

    async def detach(self, device: Device) -> None:
        """Disconnect and power off a device from :meth:`attach` and take it off the air."""
        if device in self._devices:
            await self._shutdown_device(device)
            self._devices.remove(device)
        if device is self._central:
            self._central = None

    async def _shutdown_device(self, device: Device) -> None:
        for connection in list(device.connections.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.disconnect(), _CLOSE_STEP_TIMEOUT_S)
        if device.powered_on:
            with contextlib.suppress(Exception):
                if device.is_scanning:
                    await asyncio.wait_for(device.stop_scanning(), _CLOSE_STEP_TIMEOUT_S)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(device.stop_advertising(), _CLOSE_STEP_TIMEOUT_S)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(device.power_off(), _CLOSE_STEP_TIMEOUT_S)
        controller = self._controllers.pop(device, None)
        if controller is not None:
            self._stop_controller(controller)

    def _stop_controller(self, controller: AirController) -> None:
        # Advertising timers live in the controller; cancel them, then leave the air.
        controller.le_legacy_advertiser.stop()
        for adv_set in controller.advertising_sets.values():
            adv_set.stop()
        if self._link is not None and controller in self._link.controllers:
            self._link.remove_controller(controller)

    async def serve_hci(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Put one more virtual controller on this air, reachable as HCI over TCP.

        Another bumble host, in this process or another, reaches the air through it as if it
        were a USB dongle: ``BumbleRadio(spec)`` with the returned spec.

        Args:
            host: interface to listen on.
            port: TCP port; 0 picks a free one.

        Returns:
            The transport spec a client opens, e.g. ``"tcp-client:127.0.0.1:40123"``.

        Raises:
            ConfigError: on a hardware radio.
        """
        self._require_open()
        if self._link is None:
            raise ConfigError("serve_hci needs a virtual radio (BumbleRadio() with no transport)")
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
        # protocol says TCP, and Nagle + delayed ACKs add 40 ms to every HCI round trip.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            bound_port = sock.getsockname()[1]
            transport = await open_tcp_server_transport_with_socket(sock)
        except BaseException:
            sock.close()
            raise
        controller = AirController(
            f"{self.name}-hci-{bound_port}",
            host_source=transport.source,
            host_sink=transport.sink,
            link=self._link,
        )
        self._servers.append((transport, controller))
        return f"tcp-client:{host}:{bound_port}"

    # --- the shared central ------------------------------------------------------------------
    async def central(self) -> Device:
        """The radio's central device, shared by every scanner and client (like an adapter).

        Created on first use. On a hardware radio it is the radio's only device, which may
        also be advertising as a peripheral: a controller can take both roles at once.
        """
        self._require_open()
        async with self._central_lock:
            if self._central is None:
                if self._link is None and self._devices:
                    device = self._devices[0]
                else:
                    device = await self.attach(
                        f"{self.name}-central",
                        address="F0:00:00:00:00:01" if self._link is not None else None,
                    )
                device.on(Device.EVENT_ADVERTISEMENT, self._remember)
                self._central = device
            return self._central

    def _remember(self, advertisement: Advertisement) -> None:
        self._seen[_address_key(advertisement.address)] = advertisement.address

    def resolve_address(self, address: str) -> hci.Address:
        """The bumble address (with its public/random type) for a bleak address string.

        An address heard in an advertisement keeps the type it was heard with; otherwise a
        ``/P`` suffix means public and anything else random, as bumble does.

        Raises:
            ConfigError: not a Bluetooth address.
        """
        text = address.strip().upper()
        if text in self._seen:
            return self._seen[text]
        public = text.endswith("/P")
        try:
            return hci.Address(
                text.removesuffix("/P"),
                hci.Address.PUBLIC_DEVICE_ADDRESS if public else hci.Address.RANDOM_DEVICE_ADDRESS,
            )
        except (ValueError, core.InvalidArgumentError) as exc:
            raise _bad_address(address) from exc

    async def connect(self, address: hci.Address, *, timeout: float) -> Connection:
        """Open an LE connection from the central to ``address``.

        Attempts are serialised: a controller has at most one pending LE connection.

        Raises:
            TimeoutError: nothing at ``address`` accepted within ``timeout`` seconds.
            TransportError: the controller refused or the link failed.
        """
        central = await self.central()
        async with self._connect_lock:
            try:
                return await central.connect(
                    address, transport=core.PhysicalTransport.LE, timeout=timeout
                )
            except core.TimeoutError as exc:
                raise TimeoutError(
                    f"no BLE device at {_address_key(address)} accepted a connection within "
                    f"{timeout:g} s"
                ) from exc
            except (core.BaseBumbleError, hci.HCI_Error) as exc:
                raise TransportError(f"connection to {_address_key(address)} failed: {exc}",
                                     device=_address_key(address)) from exc

    # --- scanning, shared by every scanner ----------------------------------------------------
    async def start_scanning(self, owner: object, *, active: bool = True) -> None:
        """Scan on the central on behalf of ``owner`` (active wins if any owner asks for it)."""
        central = await self.central()
        async with self._scan_lock:
            self._scanners[owner] = active
            want_active = any(self._scanners.values())
            if self._scan_active == want_active and central.is_scanning:
                return
            if central.is_scanning:
                await central.stop_scanning()
            await central.start_scanning(active=want_active, filter_duplicates=False)
            self._scan_active = want_active

    async def stop_scanning(self, owner: object) -> None:
        """Withdraw ``owner``'s scan; scanning stops when no owner is left."""
        async with self._scan_lock:
            if self._scanners.pop(owner, None) is None:
                return
            central = self._central
            if self._scanners or central is None or not self._open:
                return
            if central.is_scanning:
                await central.stop_scanning()
            self._scan_active = None
