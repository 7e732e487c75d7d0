"""A virtual device as a BLE peripheral on a bumble radio (``aura simulate --ble``).

The peripheral serves the device profile's GATT layout. An AURA device answers commands on
its control point (ACKs notified there, the HELLO on the data characteristic) and streams
between START and STOP; a vendor device streams once its profile's start commands arrive (or,
for a profile without any, once a central subscribes). A central that drops the link ends the
playback; the peripheral re-advertises and the next connection hears the recording from its
start. Needs the ``sim`` extra (bumble).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ._device import VirtualDevice, play
from ._session import DeviceSession

__all__ = ["serve_ble"]

logger = logging.getLogger(__name__)

_HELLO_TYPE = 0x01


async def serve_ble(
    radio: Any, device: VirtualDevice, *, name: str, realtime: bool = True,
    speed: float = 1.0, duration_s: float | None = None, connections: int | None = None,
    ready: Callable[[Any], None] | None = None,
) -> int:
    """Serve ``device`` as a BLE peripheral on ``radio`` (an :class:`aura_sdk.ble.BumbleRadio`).

    Args:
        radio: the radio to advertise on.
        device: what to play.
        name: advertised local name.
        realtime, speed, duration_s: playback pacing.
        connections: stop after this many connections ended (``None``: serve forever).
        ready: called with the :class:`~aura_sdk.ble.VirtualPeripheral` once it advertises.

    Returns:
        the number of connections served.
    """
    from ..ble import VirtualPeripheral

    profile = device.profile
    data_uuid = next(u for u in profile.notify_uuids
                     if (profile.control_uuid or "").lower() != u.lower())
    session: DeviceSession | None = None
    replies: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_control(data: bytes) -> None:
        if session is not None:
            for r in session.on_host_bytes(bytes(data)):
                replies.put_nowait(r)

    peripheral = VirtualPeripheral.from_profile(radio, profile, name=name,
                                                on_control=on_control)
    served = 0
    async with peripheral:
        await peripheral.wait_advertising()
        if ready is not None:
            ready(peripheral)
        while connections is None or served < connections:
            await peripheral.wait_connected(timeout=float("inf"))
            session = DeviceSession(device)
            try:
                await _serve_connection(peripheral, session, device, data_uuid, replies,
                                        realtime=realtime, speed=speed, duration_s=duration_s)
            except Exception as exc:  # the central left mid-notification
                logger.info("BLE central left: %s", exc)
            served += 1
            session = None
            if peripheral.connection_count > 0:
                await peripheral.wait_disconnected(timeout=float("inf"))
    return served


async def _serve_connection(peripheral: Any, session: DeviceSession, device: VirtualDevice,
                            data_uuid: str, replies: asyncio.Queue[bytes], *, realtime: bool,
                            speed: float, duration_s: float | None) -> None:
    control = peripheral.control_uuid

    async def pump_replies() -> None:
        while True:
            r = await replies.get()
            target = data_uuid if r[:1] == bytes([_HELLO_TYPE]) or control is None else control
            if control is not None and target == control and control not in \
                    peripheral.notify_uuids:
                continue  # a write-only control point has nowhere to answer
            await peripheral.notify(target, r)

    pump = asyncio.create_task(pump_replies())
    try:
        if session.is_aura:
            while not session.streaming:
                if not peripheral.connection_count > 0:
                    return
                await asyncio.sleep(0.01)
        elif device.profile.start_commands:
            await peripheral.wait_streaming(timeout=float("inf"))
        else:
            await peripheral.wait_subscribed(data_uuid, timeout=float("inf"))

        async def send(data: bytes) -> None:
            if not peripheral.connection_count > 0:
                raise ConnectionError("the central disconnected")
            await peripheral.notify(data_uuid, data)

        packets = (p for p in device.packets(preamble=False)
                   if not session.is_aura or session.streaming)
        await play(packets, send, realtime=realtime, speed=speed, duration_s=duration_s)
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
