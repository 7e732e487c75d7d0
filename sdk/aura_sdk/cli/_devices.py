"""``aura devices``: scan for BLE IMUs the SDK has a profile for."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from aura_bridge.devices import get_profile, profile_names

from .._errors import MissingExtraError

__all__ = ["COMMAND", "match_profile"]

# Advertised-name prefixes of vendor devices that do not advertise their IMU service UUID
# (names as the vendors' apps and SDK examples show them).
_NAME_HINTS = (("Polar Sense", "polar-verity"), ("Polar H10", "polar-h10"),
               ("WT901", "witmotion-ble"), ("BWT901", "witmotion-ble"),
               ("MetaWear", "metawear"), ("Thingy", "thingy52"))


def match_profile(name: str | None, service_uuids: list[str]) -> str | None:
    """The BLE profile a scanned device fits: by advertised service UUID, else by name."""
    adv = {u.lower() for u in service_uuids}
    for pname in profile_names():
        p = get_profile(pname)
        if p.transport == "ble" and p.service_uuid and p.service_uuid.lower() in adv:
            return pname
    for prefix, pname in _NAME_HINTS:
        if name and name.startswith(prefix):
            return pname
    return None


class _Devices:
    help = "scan for BLE IMUs the SDK has profiles for"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--timeout", type=float, default=5.0, help="scan seconds")
        parser.add_argument("--all", action="store_true", help="list devices without a profile")
        parser.add_argument("--bumble", metavar="HCI_SPEC",
                            help="scan through bumble on this HCI transport (usb:0, tcp-client:)")
        parser.add_argument("--json", action="store_true")

    def run(self, args: argparse.Namespace) -> int:
        rows = asyncio.run(_scan(args.timeout, args.bumble))
        if not args.all:
            rows = [r for r in rows if r["profile"]]
        if args.json:
            print(json.dumps(rows))
        elif not rows:
            print("no BLE IMU with a known profile found (try --all, or a longer --timeout)")
        for r in rows if not args.json else []:
            print(f"{r['name'] or '?':<24} {r['address']:<20} {r['rssi']:>5} dBm  "
                  f"{r['profile'] or '-'}")
        return 0


async def _scan(timeout: float, bumble: str | None) -> list[dict[str, Any]]:
    try:
        from bleak import BleakScanner
    except ModuleNotFoundError as exc:
        raise MissingExtraError("ble", "BLE scanning", "bleak") from exc
    if bumble:
        from ..ble import BumbleBleakScanner, BumbleRadio

        async with BumbleRadio(bumble) as radio:
            kw: dict[str, Any] = {"backend": BumbleBleakScanner, "radio": radio}
            found = await BleakScanner.discover(timeout, return_adv=True, **kw)
    else:
        found = await BleakScanner.discover(timeout, return_adv=True)
    rows: list[dict[str, Any]] = []
    for dev, adv in found.values():
        name = adv.local_name or dev.name
        rows.append({"name": name, "address": dev.address, "rssi": adv.rssi,
                     "services": list(adv.service_uuids),
                     "profile": match_profile(name, list(adv.service_uuids))})
    rows.sort(key=lambda r: -(r["rssi"] if isinstance(r["rssi"], int) else -999))
    return rows


COMMAND = _Devices()
