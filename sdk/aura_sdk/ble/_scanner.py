"""A bleak scanner backend on a bumble central.

``BleakScanner(backend=BumbleBleakScanner, radio=radio)`` scans with a
:class:`~aura_sdk.ble.BumbleRadio`'s central and reports bleak ``BLEDevice`` /
``AdvertisementData``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Literal

from .._errors import ConfigError, MissingExtraError

try:
    from bleak.backends.scanner import (
        AdvertisementData,
        AdvertisementDataCallback,
        BaseBleakScanner,
    )
    from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("ble", "the bumble bleak backend", "bleak") from exc

try:
    from bumble import core, hci
    from bumble.device import Advertisement, Device
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sim", "the bumble bleak backend", "bumble") from exc

from ._radio import BumbleRadio
from ._uuids import canonical_uuid, from_bumble

__all__ = ["BumbleBleakScanner", "BumbleDeviceDetails", "bleak_scanner_kwargs",
           "reject_unknown", "require_open", "to_advertisement_data"]

logger = logging.getLogger(__name__)

# Arguments bleak passes to every backend; the ones for other platforms are ignored, as
# bleak's own backends ignore each other's.
_PLATFORM_ARGS = frozenset({"bluez", "cb", "winrt"})

_UUID_LISTS = {
    core.AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    core.AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    core.AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    core.AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    core.AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    core.AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}
_SERVICE_DATA = {
    core.AdvertisingData.SERVICE_DATA_16_BIT_UUID: 2,
    core.AdvertisingData.SERVICE_DATA_32_BIT_UUID: 4,
    core.AdvertisingData.SERVICE_DATA_128_BIT_UUID: 16,
}


def require_open(radio: BumbleRadio) -> None:
    """Raise bleak's "Bluetooth not available" error for a radio that is not open."""
    if not radio.is_open:
        raise BleakBluetoothNotAvailableError(
            f"the BumbleRadio {radio.name!r} is not open: use `async with BumbleRadio(...)`",
            BleakBluetoothNotAvailableReason.POWERED_OFF,
        )


def reject_unknown(owner: str, kwargs: dict[str, Any]) -> None:
    """Refuse keyword arguments a backend does not know (platform dicts excepted).

    Raises:
        ConfigError: naming the unknown arguments.
    """
    unknown = sorted(set(kwargs) - _PLATFORM_ARGS)
    if unknown:
        raise ConfigError(f"{owner} does not take {', '.join(unknown)}")


@dataclasses.dataclass(frozen=True)
class BumbleDeviceDetails:
    """``BLEDevice.details`` for a device this backend heard: enough to connect without kwargs.

    Attributes:
        radio: the radio it was heard on.
        address: its bumble address, with the public / random type it advertised with.
        advertisement: the last bumble advertisement (advertising data + scan response).
    """

    radio: BumbleRadio
    address: hci.Address
    advertisement: Advertisement


def to_advertisement_data(advertisement: Advertisement) -> AdvertisementData:
    """A bleak :class:`AdvertisementData` from a bumble advertisement.

    Where advertising data and scan response disagree the first occurrence wins, except that a
    complete local name beats a shortened one.
    """
    data = advertisement.data
    name = data.get(core.AdvertisingData.COMPLETE_LOCAL_NAME, raw=True) or data.get(
        core.AdvertisingData.SHORTENED_LOCAL_NAME, raw=True
    )
    service_uuids: list[str] = []
    for ad_type, width in _UUID_LISTS.items():
        for blob in data.get_all(ad_type, raw=True):
            for i in range(0, len(blob) - width + 1, width):
                text = from_bumble(core.UUID.from_bytes(blob[i : i + width]))
                if text not in service_uuids:
                    service_uuids.append(text)
    manufacturer: dict[int, bytes] = {}
    for blob in data.get_all(core.AdvertisingData.MANUFACTURER_SPECIFIC_DATA, raw=True):
        if len(blob) >= 2:
            manufacturer.setdefault(int.from_bytes(blob[:2], "little"), bytes(blob[2:]))
    service_data: dict[str, bytes] = {}
    for ad_type, width in _SERVICE_DATA.items():
        for blob in data.get_all(ad_type, raw=True):
            if len(blob) >= width:
                key = from_bumble(core.UUID.from_bytes(blob[:width]))
                service_data.setdefault(key, bytes(blob[width:]))
    tx_power_raw = data.get(core.AdvertisingData.TX_POWER_LEVEL, raw=True)
    tx_power = int.from_bytes(tx_power_raw[:1], "little", signed=True) if tx_power_raw else None
    return AdvertisementData(
        local_name=name.decode("utf-8", errors="replace") if name else None,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=tx_power,
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )


class BumbleBleakScanner(BaseBleakScanner):
    """bleak scanner backend that scans with a :class:`BumbleRadio`'s central.

    Not built by hand: pass it to bleak, with the radio as a keyword argument::

        async with BleakScanner(backend=BumbleBleakScanner, radio=radio) as scanner: ...
        device = await BleakScanner.find_device_by_name("AURA-1", **bleak_scanner_kwargs(radio))

    Keyword Args:
        radio (BumbleRadio): the (open) radio to scan on. Required.

    Raises:
        ConfigError: no radio, a bad scanning mode, or an argument this backend does not know.
    """

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        radio: BumbleRadio | None = None,
        **kwargs: Any,
    ) -> None:
        reject_unknown("BumbleBleakScanner", kwargs)
        if not isinstance(radio, BumbleRadio):
            raise ConfigError("BumbleBleakScanner needs radio=<an open BumbleRadio>: "
                              "BleakScanner(backend=BumbleBleakScanner, radio=radio)")
        if scanning_mode not in ("active", "passive"):
            raise ConfigError(f"scanning_mode must be 'active' or 'passive', got {scanning_mode!r}")
        super().__init__(detection_callback, service_uuids)
        if service_uuids is not None:
            # bleak compares the filter with 128-bit strings; accept 16-bit spellings too.
            self._service_uuids = [canonical_uuid(u) for u in service_uuids]
        self._radio = radio
        self._active = scanning_mode == "active"
        self._central: Device | None = None

    async def start(self) -> None:
        """Clear :attr:`seen_devices` and start scanning on the radio's central.

        Raises:
            BleakBluetoothNotAvailableError: the radio is not open (bleak's "powered off").
        """
        require_open(self._radio)
        self.seen_devices = {}
        central = await self._radio.central()
        if self._central is None:
            central.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            self._central = central
        await self._radio.start_scanning(self, active=self._active)

    async def stop(self) -> None:
        """Stop this scanner (the radio scans on while another scanner runs)."""
        central, self._central = self._central, None
        if central is not None:
            central.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self._radio.stop_scanning(self)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = to_advertisement_data(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = advertisement.address.to_string(with_type_qualifier=False).upper()
        previous = self.seen_devices.get(address)
        if adv.local_name is None and previous is not None and previous[1].local_name:
            # Keep the name heard earlier (e.g. in a scan response), as BlueZ does.
            adv = adv._replace(local_name=previous[1].local_name)
        device = self.create_or_update_device(
            address,
            address,
            adv.local_name,
            BumbleDeviceDetails(self._radio, advertisement.address, advertisement),
            adv,
        )
        self.call_detection_callbacks(device, adv)


def bleak_scanner_kwargs(radio: BumbleRadio) -> dict[str, Any]:
    """Keyword arguments that point ``BleakScanner`` (and its class methods) at ``radio``.

    Example::

        device = await BleakScanner.find_device_by_name("AURA-1", **bleak_scanner_kwargs(radio))
    """
    return {"backend": BumbleBleakScanner, "radio": radio}

