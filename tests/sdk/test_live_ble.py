"""LiveRecognizer over BLE: bleak's own client on a bumble backend, against a virtual wrist."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from live_support import session, toy_model

from aura_sdk import LabelEvent, LiveRecognizer, StatusEvent
from aura_sdk.ble import BumbleBleakClient, BumbleBleakScanner, BumbleRadio
from aura_sdk.live import StreamConfig
from aura_sdk.sim import VirtualDevice
from aura_sdk.sim._ble import serve_ble

TOY = {"unknown_margin": 0.001}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return toy_model(tmp_path_factory)


def _ble_kwargs(radio) -> dict:
    return {"client_backend": BumbleBleakClient, "scanner_backend": BumbleBleakScanner,
            "backend_kwargs": {"radio": radio}, "scan_timeout_s": 3.0}


@pytest.mark.parametrize("device", ["aura-ble", "witmotion-ble", "polar-verity"])
def test_ble_wrist_is_recognised_and_survives_a_dropped_link(model, device) -> None:
    rec = session(["running"], 40.0)

    async def scenario() -> list:
        async with BumbleRadio() as radio:
            peripheral_box: list = []
            dev = VirtualDevice(device, rec, packet_s=0.04)
            server = asyncio.create_task(serve_ble(
                radio, dev, name="AURA-WRIST", speed=4.0, ready=peripheral_box.append))
            recog = LiveRecognizer.from_ble(
                "AURA-WRIST", device, model=model, **TOY, **_ble_kwargs(radio),
                stream_config=StreamConfig(backoff_initial_s=0.05, stall_timeout_s=3.0))
            got: list = []

            async def consume() -> None:
                async for ev in recog.events():
                    got.append(ev)

            consumer = asyncio.create_task(consume())
            try:
                while sum(isinstance(e, LabelEvent) for e in got) < 3:
                    await asyncio.sleep(0.05)
                await peripheral_box[0].disconnect()  # the wrist walks out of range
                while not any(isinstance(e, StatusEvent) for e in got) or \
                        sum(isinstance(e, LabelEvent) for e in got) < 6:
                    await asyncio.sleep(0.05)
            finally:
                await recog.aclose()
                await asyncio.wait_for(consumer, 10)
                server.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await server
            return got

    events = asyncio.run(asyncio.wait_for(scenario(), 60))
    status = [e for e in events if isinstance(e, StatusEvent)]
    assert [s.kind for s in status] == ["gap"]
    labels = [e.label for e in events if isinstance(e, LabelEvent)]
    assert len(labels) >= 6
    assert labels.count("running") >= 0.7 * len(labels), labels
