"""Real BLE without a BLE stack: bleak on bumble, and virtual BLE IMUs.

* :class:`BumbleRadio` — the air bumble devices share: a virtual link in this process
  (``BumbleRadio()``), or one real HCI controller (``BumbleRadio("usb:0")``) for hosts
  without BlueZ.
* :class:`BumbleBleakScanner` / :class:`BumbleBleakClient` — a bleak backend on the radio's
  central, so code written against bleak's public API (``BleakScanner``, ``BleakClient``)
  runs unchanged over it.
* :class:`VirtualPeripheral` — a bumble peripheral that advertises and serves a device
  profile's GATT service and sends notifications, for ``aura simulate`` and tests.

Example::

    from bleak import BleakClient, BleakScanner
    from aura_sdk.ble import (BumbleRadio, VirtualPeripheral, bleak_client_kwargs,
                              bleak_scanner_kwargs)

    async with BumbleRadio() as radio, VirtualPeripheral(
        radio, name="AURA-1", service_uuid=SVC, notify_uuids=[DATA], control_uuid=CTRL
    ) as wrist:
        device = await BleakScanner.find_device_by_name("AURA-1", **bleak_scanner_kwargs(radio))
        async with BleakClient(device, **bleak_client_kwargs(radio)) as client:
            await client.start_notify(DATA, lambda char, data: print(data.hex()))
            await wrist.notify(DATA, b"\\x01\\x02")

Names are loaded on first use: the radio and the peripheral need bumble (extra ``sim``), the
bleak backend also needs bleak (extra ``ble``); a missing one raises
:class:`~aura_sdk.MissingExtraError` naming the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import DEFAULT_MTU, BumbleBleakClient, bleak_client_kwargs
    from ._peripheral import ControlHandler, VirtualPeripheral
    from ._radio import BumbleRadio
    from ._scanner import BumbleBleakScanner, BumbleDeviceDetails, bleak_scanner_kwargs

__all__ = [
    "DEFAULT_MTU",
    "BumbleBleakClient",
    "BumbleBleakScanner",
    "BumbleDeviceDetails",
    "BumbleRadio",
    "ControlHandler",
    "VirtualPeripheral",
    "bleak_client_kwargs",
    "bleak_scanner_kwargs",
]

_WHERE = {
    "DEFAULT_MTU": "._client",
    "BumbleBleakClient": "._client",
    "bleak_client_kwargs": "._client",
    "BumbleBleakScanner": "._scanner",
    "BumbleDeviceDetails": "._scanner",
    "bleak_scanner_kwargs": "._scanner",
    "BumbleRadio": "._radio",
    "ControlHandler": "._peripheral",
    "VirtualPeripheral": "._peripheral",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
