"""BumbleRadio beyond the in-process link: real HCI bytes over a transport, advertising payloads.

A virtual air exposes one more controller as HCI over TCP (``serve_hci``); a second radio opens
it with a bumble transport spec, exactly as it would open ``usb:0``. That runs the
hardware code path (HCI packets serialised, sent over a socket, parsed back) without hardware.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable

import pytest

pytest.importorskip("bleak")
pytest.importorskip("bumble")

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

from aura_sdk import ConfigError, TransportError
from aura_sdk.ble import (
    BumbleRadio,
    VirtualPeripheral,
    bleak_client_kwargs,
    bleak_scanner_kwargs,
)
from aura_sdk.ble._peripheral import advertising_payloads

SVC = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CTRL = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
SVC_LE = bytes.fromhex("c8f08d2dcd8aad1c87f3e702805c00fb")  # SVC as it goes on air


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


def test_advertising_payloads_fit_legacy_advertising_byte_exact() -> None:
    flags = bytes.fromhex("020106")
    adv, scan = advertising_payloads("AURA-1", SVC)
    assert adv == flags + b"\x11\x07" + SVC_LE + b"\x07\x09AURA-1"
    assert scan == b""

    # 3 + 18 + 22 > 31: the complete name moves to the scan response, 8 bytes stay behind.
    adv, scan = advertising_payloads("Polar Sense B5D3E2A1", SVC)
    assert adv == flags + b"\x11\x07" + SVC_LE + b"\x09\x08Polar Se"
    assert scan == b"\x15\x09Polar Sense B5D3E2A1"
    assert len(adv) == 31

    # SIG-base UUIDs travel in 16 bits; WitMotion's look-alike (...9a34fb) does not.
    adv, _ = advertising_payloads("WT901", "0000FFE5-0000-1000-8000-00805F9B34FB")
    assert adv == flags + b"\x03\x03\xe5\xff" + b"\x06\x09WT901"
    adv, _ = advertising_payloads("WT901", "0000ffe5-0000-1000-8000-00805f9a34fb")
    assert adv[3:5] == b"\x11\x07"

    assert len(advertising_payloads("N" * 29, SVC)[1]) == 31
    with pytest.raises(ConfigError, match="at most 29"):
        advertising_payloads("N" * 30, SVC)


def test_bleak_over_a_real_hci_transport() -> None:
    received: list[bytes] = []

    def on_data(_: BleakGATTCharacteristic, data: bytearray) -> None:
        received.append(bytes(data))

    async def body() -> None:
        async with (
            BumbleRadio() as air,
            VirtualPeripheral(air, name="AURA-HCI", service_uuid=SVC, notify_uuids=[DATA],
                              rssi_dbm=-58) as dev,
        ):
            spec = await air.serve_hci()
            assert spec.startswith("tcp-client:127.0.0.1:")
            async with BumbleRadio(spec) as dongle:
                assert dongle.is_virtual is False
                found = await BleakScanner.find_device_by_name(
                    "AURA-HCI", timeout=2.0, **bleak_scanner_kwargs(dongle))
                assert found is not None and found.address == dev.address
                async with BleakClient(found, pair=True, timeout=5.0,
                                       **bleak_client_kwargs(dongle)) as client:
                    assert (client.mtu_size, client.name) == (247, "AURA-HCI")
                    central = await dongle.central()
                    assert [c.is_encrypted for c in central.connections.values()] == [True]
                    await client.start_notify(DATA, on_data)
                    await dev.wait_subscribed(DATA)
                    frames = [bytes([i]) * (1 + 12 * i) for i in range(20)]  # 1..229 bytes
                    for frame in frames:
                        await dev.notify(DATA, frame)
                    async with asyncio.timeout(3.0):
                        while len(received) < len(frames):
                            await asyncio.sleep(0.005)
                    assert received == frames
                # one HCI controller is one device
                with pytest.raises(ConfigError, match="already hosts a device"):
                    await dongle.attach("second")
                with pytest.raises(ConfigError, match="virtual radio"):
                    await dongle.serve_hci()

    run(body)


def test_virtual_peripheral_on_a_real_hci_controller() -> None:
    """``aura simulate --ble`` with a dongle: the peripheral's host talks HCI to a controller."""

    async def body() -> None:
        async with BumbleRadio() as air:
            spec = await air.serve_hci()
            async with (
                BumbleRadio(spec) as dongle,
                VirtualPeripheral(dongle, name="AURA-DONGLE", service_uuid=SVC,
                                  notify_uuids=[DATA], control_uuid=CTRL) as dev,
                BleakClient(dev.address, timeout=3.0, **bleak_client_kwargs(air)) as client,
            ):
                assert client.name == "AURA-DONGLE"
                inbox: list[bytes] = []
                await client.start_notify(DATA, lambda _, d: inbox.append(bytes(d)))
                await dev.wait_subscribed(DATA)
                await dev.notify(DATA, b"\x55\x61" + bytes(18))
                await client.write_gatt_char(CTRL, b"\xff\xaa\x03\x08\x00", response=True)
                assert dev.control_writes == [b"\xff\xaa\x03\x08\x00"]
                async with asyncio.timeout(2.0):
                    while not inbox:
                        await asyncio.sleep(0.005)
                assert inbox == [b"\x55\x61" + bytes(18)]
                # the dongle's single device doubles as its central
                assert await dongle.central() is not None

    run(body)


def test_unreachable_transport_and_closed_radio_are_refused() -> None:
    async def body() -> None:
        with pytest.raises(TransportError, match="could not open the HCI transport") as failed:
            async with BumbleRadio("tcp-client:127.0.0.1:1"):
                pass
        assert failed.value.device == "tcp-client:127.0.0.1:1"
        radio = BumbleRadio()
        with pytest.raises(TransportError, match="not open"):
            await radio.central()
        # through bleak, a closed radio looks like Bluetooth switched off
        with pytest.raises(BleakBluetoothNotAvailableError) as off:
            await BleakScanner(**bleak_scanner_kwargs(radio)).start()
        assert off.value.reason is BleakBluetoothNotAvailableReason.POWERED_OFF
        with pytest.raises(BleakBluetoothNotAvailableError):
            await BleakClient("C0:00:00:00:00:01", **bleak_client_kwargs(radio)).connect()
        async with radio:
            with pytest.raises(ConfigError, match="Bluetooth address"):
                await radio.attach("x", address="not-an-address")
        await radio.close()  # closing twice is fine

    run(body)
    with pytest.raises(ConfigError):
        BumbleRadio("  ")


_IMPORT_PROBE = """
import sys
import aura_sdk, aura_sdk.ble
from aura_sdk import MissingExtraError
print('eager:', sorted(m for m in ('bleak', 'bumble', 'torch') if m in sys.modules))
sys.modules['bumble'] = None  # the sim extra missing
try:
    from aura_sdk.ble import BumbleRadio
except MissingExtraError as e:
    print('no bumble:', e.extra)
del sys.modules['bumble']
sys.modules['bleak'] = None  # the ble extra missing: the peripheral still works
from aura_sdk.ble import BumbleRadio, VirtualPeripheral
try:
    from aura_sdk.ble import BumbleBleakClient
except MissingExtraError as e:
    print('no bleak:', e.extra, '|', e)
"""


def test_imports_are_lazy_and_missing_extras_are_named() -> None:
    probe = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], capture_output=True,
                           text=True, check=False, timeout=60)
    assert probe.returncode == 0, probe.stderr
    lines = probe.stdout.splitlines()
    assert lines[0] == "eager: []"
    assert lines[1] == "no bumble: sim"
    assert lines[2].startswith("no bleak: ble | ")
    assert "pip install 'aura-sdk[ble]'" in lines[2]


def test_public_surface_is_frozen() -> None:
    import aura_sdk.ble as ble

    assert set(ble.__all__) == {
        "DEFAULT_MTU", "BumbleBleakClient", "BumbleBleakScanner", "BumbleDeviceDetails",
        "BumbleRadio", "ControlHandler", "VirtualPeripheral", "bleak_client_kwargs",
        "bleak_scanner_kwargs",
    }
    assert all(getattr(ble, name) is not None for name in ble.__all__)
    assert ble.DEFAULT_MTU == 247
    with pytest.raises(AttributeError):
        _ = ble.AirController  # internal: not re-exported
