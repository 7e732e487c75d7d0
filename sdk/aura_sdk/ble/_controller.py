"""The virtual link-layer controller every device on a virtual air runs.

bumble's :class:`bumble.controller.Controller` is a software Bluetooth controller: the real
HCI command set on one side, a :class:`bumble.link.LocalLink` on the other. Two of its
behaviours differ from what the Core specification (and every real controller) does, and both
matter to a BLE central:

* **LE Create Connection Cancel** is acknowledged but does nothing, so a connection attempt to
  an address nobody advertises never ends and blocks every later attempt
  (Core v5.4, Vol 4, Part E, 7.8.13: the pending attempt is dropped and an LE Connection
  Complete event with status Unknown Connection Identifier follows).
* **Scanning** answers every advertisement with a "scan response" that repeats the advertising
  data, ignores the advertiser's real scan-response data, and does so even for passive scans.
  A device whose name only fits in its scan response (most real IMUs: 31 bytes are quickly
  used by a 128-bit service UUID) would never show its name.

:class:`AirController` keeps bumble's controller and closes those two gaps, and lets each
device set the RSSI at which others hear it.
"""

from __future__ import annotations

import asyncio
import dataclasses

from .._errors import MissingExtraError

try:
    from bumble import hci, ll
    from bumble.controller import Controller
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("sim", "aura_sdk.ble (the bumble radio)", "bumble") from exc

__all__ = ["AirController"]

_ExtType = hci.HCI_LE_Extended_Advertising_Report_Event.EventType
_LEGACY_ADV_IND = (
    _ExtType.LEGACY_ADVERTISING_PDU_USED
    | _ExtType.CONNECTABLE_ADVERTISING
    | _ExtType.SCANNABLE_ADVERTISING
)
# Legacy advertising types (HCI_LE_Set_Advertising_Parameters) as extended report bits.
_LEGACY_TYPE_BITS = {
    0x00: _LEGACY_ADV_IND,  # ADV_IND
    0x01: _ExtType.LEGACY_ADVERTISING_PDU_USED
    | _ExtType.CONNECTABLE_ADVERTISING
    | _ExtType.DIRECTED_ADVERTISING,  # ADV_DIRECT_IND (high duty)
    0x02: _ExtType.LEGACY_ADVERTISING_PDU_USED | _ExtType.SCANNABLE_ADVERTISING,  # ADV_SCAN_IND
    0x03: _ExtType.LEGACY_ADVERTISING_PDU_USED,  # ADV_NONCONN_IND
    0x04: _ExtType.LEGACY_ADVERTISING_PDU_USED
    | _ExtType.CONNECTABLE_ADVERTISING
    | _ExtType.DIRECTED_ADVERTISING,  # ADV_DIRECT_IND (low duty)
}
# Advertising_Event_Properties bits 0-4 line up with the extended report's event type bits.
_PROPERTY_BITS_MASK = 0b11111


@dataclasses.dataclass(frozen=True)
class _Advertiser:
    event_type: int  # extended-report bits of the advertising PDU
    scan_response: bytes
    rssi: int


class AirController(Controller):
    """A bumble virtual controller that follows the specification where a central notices.

    Attributes:
        rssi_dbm: the RSSI other devices on the air report for this device's advertisements.
    """

    rssi_dbm: int = -50
    _active_scan: bool = True

    # --- scanning ------------------------------------------------------------------------
    def on_hci_le_set_scan_parameters_command(
        self, command: hci.HCI_LE_Set_Scan_Parameters_Command
    ) -> hci.HCI_StatusReturnParameters:
        result = super().on_hci_le_set_scan_parameters_command(command)
        if result.status == hci.HCI_ErrorCode.SUCCESS:
            self._active_scan = (
                command.le_scan_type == hci.HCI_LE_Set_Scan_Parameters_Command.ACTIVE_SCANNING
            )
        return result

    def on_hci_le_set_extended_scan_parameters_command(
        self, command: hci.HCI_LE_Set_Extended_Scan_Parameters_Command
    ) -> hci.HCI_StatusReturnParameters:
        result = super().on_hci_le_set_extended_scan_parameters_command(command)
        active = hci.HCI_LE_Set_Extended_Scan_Parameters_Command.ACTIVE_SCANNING
        self._active_scan = any(scan_type == active for scan_type in command.scan_types)
        return result

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        # The base class also handles periodic-advertising syncs and a pending connection to
        # this advertiser; let it, with its own (inaccurate) scan reports switched off.
        scanning = self.le_scan_enable
        self.le_scan_enable = False
        try:
            super().on_advertising_pdu(pdu)
        finally:
            self.le_scan_enable = scanning
        if scanning:
            self._report(pdu)

    def _find_advertiser(self, address: hci.Address) -> _Advertiser:
        for other in self.link.controllers:
            if other is self:
                continue
            rssi = getattr(other, "rssi_dbm", AirController.rssi_dbm)
            legacy = other.le_legacy_advertiser
            if legacy.enabled and legacy.address == address:
                legacy_bits = _LEGACY_TYPE_BITS.get(legacy.advertising_type, _LEGACY_ADV_IND)
                return _Advertiser(int(legacy_bits), bytes(legacy.scan_response_data), rssi)
            for adv_set in other.advertising_sets.values():
                if adv_set.enabled and adv_set.address == address and adv_set.parameters:
                    properties = int(adv_set.parameters.advertising_event_properties)
                    return _Advertiser(
                        properties & _PROPERTY_BITS_MASK, bytes(adv_set.scan_response_data), rssi
                    )
        # The advertiser switched off between sending and our receiving: report what we got.
        return _Advertiser(int(_LEGACY_ADV_IND), b"", AirController.rssi_dbm)

    def _report(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        advertiser = self._find_advertiser(pdu.advertiser_address)
        reports: list[tuple[int, bytes]] = [(advertiser.event_type, pdu.data)]
        if self._active_scan and advertiser.event_type & _ExtType.SCANNABLE_ADVERTISING:
            reports.append(
                (advertiser.event_type | int(_ExtType.SCAN_RESPONSE), advertiser.scan_response)
            )
        address = pdu.advertiser_address
        extended = bool(self.le_features & hci.LeFeatureMask.LE_EXTENDED_ADVERTISING)
        for event_type, data in reports:  # (int, bytes)
            if extended:
                report = hci.HCI_LE_Extended_Advertising_Report_Event.Report(
                    event_type=event_type,
                    address_type=address.address_type,
                    address=address,
                    primary_phy=hci.Phy.LE_1M,
                    secondary_phy=0,
                    advertising_sid=0xFF,
                    tx_power=hci.HCI_LE_Extended_Advertising_Report_Event.TX_POWER_INFORMATION_NOT_AVAILABLE,
                    rssi=advertiser.rssi,
                    periodic_advertising_interval=0,
                    direct_address_type=0,
                    direct_address=hci.Address.ANY,
                    data=data,
                )
                self.send_hci_packet(hci.HCI_LE_Extended_Advertising_Report_Event([report]))
            else:
                legacy_map = hci.HCI_LE_Extended_Advertising_Report_Event.LEGACY_PDU_TYPE_MAP
                legacy_report = hci.HCI_LE_Advertising_Report_Event.Report(
                    event_type=legacy_map.get(event_type & 0b1111, 0x00),
                    address_type=address.address_type,
                    address=address,
                    data=data,
                    rssi=advertiser.rssi,
                )
                self.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([legacy_report]))

    # --- connecting ----------------------------------------------------------------------
    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        failure = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=pending.peer_address_type,
            peer_address=pending.peer_address,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        # The Command Complete for the cancel goes out first (the base class sends it when
        # this handler returns), then the failed LE Connection Complete, as on real hardware.
        asyncio.get_running_loop().call_soon(self.send_hci_packet, failure)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)
