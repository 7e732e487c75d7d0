"""bleak's public API over the bumble backend, against bumble virtual peripherals.

Everything goes through ``bleak.BleakScanner`` / ``bleak.BleakClient`` with
``backend=BumbleBleakScanner`` / ``BumbleBleakClient``: real HCI, link layer, L2CAP, ATT and
GATT between bumble devices on one virtual air. Each test runs under a hard timeout and checks
that nothing it started is left running.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest

pytest.importorskip("bleak")
pytest.importorskip("bumble")

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError

from aura_bridge.devices import get_profile
from aura_sdk import ConfigError
from aura_sdk.ble import (
    BumbleBleakClient,
    BumbleRadio,
    VirtualPeripheral,
    bleak_client_kwargs,
    bleak_scanner_kwargs,
)

SVC = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CTRL = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
DATA2 = "fb005c83-02e7-f387-1cad-8acd2d8df0c8"
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
LONG_NAME = "Polar Sense B5D3E2A1"  # does not fit beside a 128-bit UUID: goes to scan response


def run(test: Callable[[], Awaitable[None]], timeout: float = 10.0) -> None:
    """Run one async test under a hard timeout.

    Fails if the test leaves a task behind or if any callback raised into the event loop
    (asyncio only logs those).
    """
    loop_errors: list[str] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: loop_errors.append(str(context.get("exception") or context))
        )
        await asyncio.wait_for(test(), timeout)
        await asyncio.sleep(0)  # let done-callbacks of finished tasks run
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == []

    asyncio.run(main())
    assert loop_errors == []


def wrist(radio: BumbleRadio, name: str = "AURA-1", **kwargs: object) -> VirtualPeripheral:
    options: dict[str, object] = {"service_uuid": SVC, "notify_uuids": [DATA, DATA2],
                                  "control_uuid": CTRL}
    options.update(kwargs)
    return VirtualPeripheral(radio, name=name, **options)  # type: ignore[arg-type]


class Inbox:
    """Collects notifications; ``wait(n)`` returns once ``n`` have arrived."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytearray]] = []
        self._event = asyncio.Event()
        self._want = 0

    def __call__(self, char: BleakGATTCharacteristic, data: bytearray) -> None:
        self.items.append((char.uuid, data))
        if len(self.items) >= self._want:
            self._event.set()

    async def wait(self, n: int, timeout: float = 5.0) -> None:
        self._want = n
        if len(self.items) < n:
            self._event.clear()
            await asyncio.wait_for(self._event.wait(), timeout)


def test_scan_finds_devices_by_name_with_service_uuids_and_rssi() -> None:
    async def body() -> None:
        async with (
            BumbleRadio() as radio,
            wrist(radio, LONG_NAME, rssi_dbm=-63) as polar,
            VirtualPeripheral(radio, name="WT901", service_uuid="ffe5", notify_uuids=["ffe4"],
                              rssi_dbm=-71) as wit,
        ):
            heard: list[tuple[BLEDevice, AdvertisementData]] = []
            async with BleakScanner(lambda d, a: heard.append((d, a)),
                                    **bleak_scanner_kwargs(radio)) as scanner:
                await asyncio.sleep(0.25)
            found = scanner.discovered_devices_and_advertisement_data
            assert set(found) == {polar.address, wit.address}
            device, adv = found[polar.address]
            assert (device.name, adv.local_name, adv.service_uuids, adv.rssi) == (
                LONG_NAME, LONG_NAME, [SVC], -63)
            device, adv = found[wit.address]
            assert (device.name, adv.local_name, adv.rssi) == ("WT901", "WT901", -71)
            assert adv.service_uuids == ["0000ffe5-0000-1000-8000-00805f9b34fb"]
            assert {d.address for d, _ in heard} == {polar.address, wit.address}

            by_name = await BleakScanner.find_device_by_name(
                LONG_NAME, timeout=2.0, **bleak_scanner_kwargs(radio))
            assert by_name is not None and by_name.address == polar.address

            filtered = await BleakScanner.discover(
                timeout=0.2, service_uuids=["FFE5"], return_adv=True,
                **bleak_scanner_kwargs(radio))
            assert list(filtered) == [wit.address]

            # A passive scan sends no scan requests: only the shortened name is heard.
            passive = await BleakScanner.discover(
                timeout=0.2, scanning_mode="passive", return_adv=True,
                **bleak_scanner_kwargs(radio))
            assert passive[polar.address][1].local_name == "Polar Se"
            assert passive[wit.address][1].local_name == "WT901"

    run(body)


def test_connect_lists_services_with_characteristic_properties() -> None:
    profile = get_profile("aura-ble")
    assert profile.control_uuid in profile.notify_uuids  # control point that also notifies
    data_uuid = next(u for u in profile.notify_uuids if u != profile.control_uuid)

    async def body() -> None:
        async with (
            BumbleRadio() as radio,
            VirtualPeripheral.from_profile(radio, profile, name="AURA-BLE") as dev,
        ):
            device = await BleakScanner.find_device_by_name(
                "AURA-BLE", timeout=2.0, **bleak_scanner_kwargs(radio))
            assert device is not None
            # The BLEDevice carries its radio: no radio= needed here.
            async with BleakClient(device, backend=BumbleBleakClient) as client:
                assert client.backend_id == "BumbleBleakClient"
                assert (client.address, client.name) == (dev.address, "AURA-BLE")
                service = client.services.get_service(profile.service_uuid)
                assert service is not None
                props = {c.uuid: sorted(c.properties) for c in service.characteristics}
                assert props == {
                    data_uuid: ["notify", "read"],
                    profile.control_uuid: ["notify", "read", "write", "write-without-response"],
                }
                for char in service.characteristics:
                    assert [d.uuid for d in char.descriptors] == [CCCD]
                # the peripheral's GAP service is discovered too, with its device name
                gap_name = client.services.get_characteristic("2a00")
                assert gap_name is not None
                assert await client.read_gatt_char(gap_name) == bytearray(b"AURA-BLE")

    run(body)


def test_notifications_arrive_byte_exact_and_in_order() -> None:
    rng = random.Random(20250611)
    payloads = [rng.randbytes(rng.randint(1, 244)) for _ in range(198)]
    payloads += [b"\x00", bytes(range(244))]  # both size limits of a 247-byte ATT MTU

    async def body() -> None:
        async with (
            BumbleRadio() as radio,
            wrist(radio) as dev,
            BleakClient(dev.address, **bleak_client_kwargs(radio)) as client,
        ):
            inbox = Inbox()
            await client.start_notify(DATA, inbox)
            await client.start_notify(DATA2, inbox)
            await dev.wait_subscribed(DATA)
            await dev.wait_subscribed(DATA2)
            for i, payload in enumerate(payloads):
                assert await dev.notify(DATA if i % 2 == 0 else DATA2, payload) == 1
            await inbox.wait(len(payloads))
            assert [bytes(data) for _, data in inbox.items] == payloads
            assert [uuid for uuid, _ in inbox.items] == [DATA, DATA2] * 100
            assert all(type(data) is bytearray for _, data in inbox.items)

            # One byte over ATT_MTU - 3 is refused, not truncated, and nothing is sent.
            assert client.mtu_size == 247
            with pytest.raises(ConfigError, match="ATT_MTU 247 carries at most 244"):
                await dev.notify(DATA, bytes(245))
            # a read returns the last value notified on that characteristic
            assert await client.read_gatt_char(DATA2) == bytearray(payloads[-1])
            await asyncio.sleep(0.02)
            assert len(inbox.items) == len(payloads)

    run(body)


@pytest.mark.parametrize(
    ("peripheral_max", "requested", "expected"),
    [(185, 247, 185), (247, 100, 100), (517, 517, 517), (247, 23, 23)],
)
def test_mtu_negotiation_reports_the_negotiated_size(
    peripheral_max: int, requested: int, expected: int
) -> None:
    async def body() -> None:
        async with (
            BumbleRadio() as radio,
            wrist(radio, max_mtu=peripheral_max) as dev,
            BleakClient(dev.address, **bleak_client_kwargs(radio, mtu=requested)) as c,
        ):
            assert c.mtu_size == expected
            assert dev.mtus == [expected]
            data_char = c.services.get_characteristic(DATA)
            assert data_char is not None
            assert data_char.max_write_without_response_size == expected - 3
            inbox = Inbox()
            await c.start_notify(DATA, inbox)
            await dev.wait_subscribed(DATA)
            largest = bytes(i % 251 for i in range(expected - 3))
            await dev.notify(DATA, largest)
            await inbox.wait(1)
            assert inbox.items[0][1] == bytearray(largest)
            with pytest.raises(ConfigError):
                await dev.notify(DATA, largest + b"!")

    run(body)


def test_control_writes_reach_the_peripheral_handler() -> None:
    profile = get_profile("polar-verity")
    start, stop = profile.start_commands[0], profile.stop_commands[0]
    handled: list[bytes] = []

    async def on_control(data: bytes) -> None:
        await asyncio.sleep(0)
        if data == b"\xff":
            raise RuntimeError("unsupported opcode")
        handled.append(data)

    async def body() -> None:
        async with (
            BumbleRadio() as radio,
            VirtualPeripheral.from_profile(radio, profile, on_control=on_control) as dev,
        ):
            ctrl = profile.control_uuid
            assert ctrl is not None
            async with BleakClient(dev.address, **bleak_client_kwargs(radio)) as client:
                await client.write_gatt_char(ctrl, start, response=True)
                assert dev.streaming is True and handled == [start]  # handled before the reply
                await client.write_gatt_char(ctrl, stop, response=False)
                await dev.wait_streaming(False, timeout=2.0)
                assert handled == [start, stop]
                assert dev.control_writes == [start, stop]

                # A handler failure reaches the central as an ATT error (0x0E unlikely error).
                with pytest.raises(BleakGATTProtocolError) as failure:
                    await client.write_gatt_char(ctrl, b"\xff", response=True)
                assert failure.value.code == 0x0E
                # A long write (prepare + execute) arrives in one piece.
                long_command = bytes(range(256)) + bytes(144)
                await client.write_gatt_char(ctrl, long_command, response=True)
                assert handled[-1] == long_command
                # Without response, the client refuses what one ATT packet cannot carry.
                with pytest.raises(BleakError, match="max_write_without_response_size"):
                    await client.write_gatt_char(ctrl, bytes(245), response=False)

                # Permissions hold: the data characteristic is not writable, the control
                # point of this profile not readable.
                data_uuid = profile.notify_uuids[0]
                with pytest.raises(BleakGATTProtocolError) as denied:
                    await client.write_gatt_char(data_uuid, b"\x01", response=True)
                assert denied.value.code == 0x03  # write not permitted
                with pytest.raises(BleakGATTProtocolError) as denied:
                    await client.read_gatt_char(ctrl)
                assert denied.value.code == 0x02  # read not permitted
                with pytest.raises(ConfigError, match="write-only"):
                    await dev.notify(ctrl, b"\x00")
                with pytest.raises(ConfigError, match="has no characteristic"):
                    await dev.notify("ffe4", b"\x00")

    run(body)


def test_peripheral_disconnect_fires_callback_and_reconnect_works() -> None:
    async def body() -> None:
        async with BumbleRadio() as radio, wrist(radio) as dev:
            dropped: list[BleakClient] = []
            down = asyncio.Event()

            def on_disconnect(client: BleakClient) -> None:
                dropped.append(client)
                down.set()

            client = BleakClient(dev.address, on_disconnect, **bleak_client_kwargs(radio))
            await client.connect()
            inbox = Inbox()
            await client.start_notify(DATA, inbox)
            await dev.wait_subscribed(DATA)

            assert await dev.disconnect() == 1  # the wrist is "unplugged"
            await asyncio.wait_for(down.wait(), 2.0)
            assert dropped == [client]
            assert client.is_connected is False
            with pytest.raises(BleakError):
                await client.read_gatt_char(DATA)

            await dev.wait_advertising(timeout=2.0)  # it advertises again by itself
            await client.connect()  # the same client object reconnects
            assert client.is_connected and client.mtu_size == 247
            await client.start_notify(DATA, inbox)
            await dev.wait_subscribed(DATA)
            await dev.notify(DATA, b"after reconnect")
            await inbox.wait(1)
            assert inbox.items == [(DATA, bytearray(b"after reconnect"))]

            down.clear()
            await client.disconnect()
            await asyncio.wait_for(down.wait(), 2.0)  # BlueZ-like: fires on our disconnect too
            assert dropped == [client, client]
            assert client.is_connected is False
            await client.disconnect()  # a no-op when already down

    run(body)


def test_link_lost_during_a_request_raises_bleak_error() -> None:
    peripheral: list[VirtualPeripheral] = []

    async def unplug_on_command(_: bytes) -> None:
        await peripheral[0].disconnect()  # the device dies before it answers

    async def body() -> None:
        async with BumbleRadio() as radio, wrist(radio, on_control=unplug_on_command) as dev:
            peripheral.append(dev)
            client = BleakClient(dev.address, **bleak_client_kwargs(radio))
            await client.connect()
            with pytest.raises(BleakError, match="disconnected during write"):
                await client.write_gatt_char(CTRL, b"\x01", response=True)
            assert client.is_connected is False
            await dev.wait_advertising(timeout=2.0)

    run(body)


def test_stop_notify_stops_delivery() -> None:
    async def body() -> None:
        async with (
            BumbleRadio() as radio,
            wrist(radio) as dev,
            BleakClient(dev.address, **bleak_client_kwargs(radio)) as client,
        ):
            inbox = Inbox()
            await client.start_notify(DATA, inbox)
            await dev.wait_subscribed(DATA)
            with pytest.raises(BleakError, match="already started"):
                await client.start_notify(DATA, inbox)
            assert await dev.notify(DATA, b"one") == 1
            await inbox.wait(1)

            await client.stop_notify(DATA)
            assert dev.subscriber_count(DATA) == 0  # the CCCD write was acknowledged
            assert await dev.notify(DATA, b"two") == 0
            await asyncio.sleep(0.02)
            assert inbox.items == [(DATA, bytearray(b"one"))]
            with pytest.raises(BleakError, match="not started"):
                await client.stop_notify(DATA)
            with pytest.raises(TimeoutError, match="subscription to " + DATA):
                await dev.wait_subscribed(DATA, timeout=0.05)

            await client.start_notify(DATA, inbox)
            await dev.wait_subscribed(DATA)
            assert await dev.notify(DATA, b"three") == 1
            await inbox.wait(2)
            assert [bytes(d) for _, d in inbox.items] == [b"one", b"three"]

    run(body)


def test_absent_device_fails_fast_and_the_radio_recovers() -> None:
    async def body() -> None:
        loop = asyncio.get_running_loop()
        async with BumbleRadio() as radio, wrist(radio) as dev:
            started = loop.time()
            with pytest.raises(BleakDeviceNotFoundError, match="C0:DE:AD:00:00:01") as missing:
                await BleakClient("C0:DE:AD:00:00:01", timeout=0.5,
                                  **bleak_client_kwargs(radio)).connect()
            assert loop.time() - started < 2.0
            assert missing.value.identifier == "C0:DE:AD:00:00:01"
            assert "advertising and in range" in str(missing.value)

            # a device that stopped advertising cannot be reached either...
            await dev.stop_advertising()
            with pytest.raises(BleakDeviceNotFoundError):
                await BleakClient(dev.address, timeout=0.3, **bleak_client_kwargs(radio)).connect()
            # ...and the controller is not stuck on the cancelled attempts.
            await dev.start_advertising()
            async with BleakClient(dev.address, timeout=2.0, **bleak_client_kwargs(radio)) as c:
                assert c.is_connected

    run(body)


def test_two_clients_connect_concurrently_and_radio_close_cleans_up() -> None:
    async def body() -> None:
        radio = BumbleRadio()
        async with radio, wrist(radio, "AURA-L") as left, wrist(radio, "AURA-R") as right:
            drops: list[str] = []
            clients = [
                BleakClient(dev.address, lambda c: drops.append(c.address),
                            **bleak_client_kwargs(radio))
                for dev in (left, right)
            ]
            await asyncio.gather(*(c.connect() for c in clients))
            assert [c.name for c in clients] == ["AURA-L", "AURA-R"]
            addresses = [left.address, right.address]
            scanner = BleakScanner(**bleak_scanner_kwargs(radio))
            await scanner.start()  # left running on purpose: closing the radio stops it
        assert radio.is_open is False
        await asyncio.sleep(0)
        assert all(not c.is_connected for c in clients)
        assert sorted(drops) == sorted(addresses)

    run(body)


def test_backend_rejects_missing_radio_and_unknown_options() -> None:
    radio = BumbleRadio()
    with pytest.raises(ConfigError, match="radio="):
        BleakClient("C0:00:00:00:00:01", backend=BumbleBleakClient)
    with pytest.raises(ConfigError, match="colour"):
        BleakClient("C0:00:00:00:00:01", colour="red", **bleak_client_kwargs(radio))
    with pytest.raises(ConfigError, match="mtu"):
        BleakClient("C0:00:00:00:00:01", **bleak_client_kwargs(radio, mtu=600))
    with pytest.raises(ConfigError, match="radio="):
        BleakScanner(backend=bleak_scanner_kwargs(radio)["backend"])
    with pytest.raises(ValueError, match="UUID"):  # ConfigError is a ValueError
        VirtualPeripheral(radio, name="x", service_uuid="not-a-uuid", notify_uuids=[DATA])
    with pytest.raises(ConfigError, match="29"):
        VirtualPeripheral(radio, name="N" * 30, service_uuid=SVC, notify_uuids=[DATA])
    with pytest.raises(ConfigError, match="serial"):
        VirtualPeripheral.from_profile(radio, get_profile("witmotion"))
