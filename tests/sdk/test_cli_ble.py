"""`aura simulate --ble`, `aura devices` and `aura live --ble` across two event loops, the way
two processes meet: the virtual wrist's air is reached over HCI on loopback TCP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading

import pytest
from live_support import session

from aura_export import write_example_bundle
from aura_sdk._recording import write_recording
from aura_sdk.ble import BumbleRadio
from aura_sdk.cli import main
from aura_sdk.cli._devices import match_profile
from aura_sdk.sim import VirtualDevice
from aura_sdk.sim._ble import serve_ble


@pytest.fixture
def wrist():
    """A virtual aura-ble wrist on its own loop and thread; yields the HCI spec."""
    spec_box: list[str] = []
    ready = threading.Event()
    stop: list[asyncio.AbstractEventLoop] = []

    async def serve() -> None:
        stop.append(asyncio.get_running_loop())
        async with BumbleRadio() as radio:
            spec_box.append(await radio.serve_hci())
            dev = VirtualDevice("aura-ble", session(["walking"], 60.0), packet_s=0.04)
            await serve_ble(radio, dev, name="AURA-CLI", speed=2.0,
                            ready=lambda p: ready.set())

    t = threading.Thread(target=lambda: asyncio.run(_until_cancelled(serve())), daemon=True)
    t.start()
    assert ready.wait(10)
    yield spec_box[0]
    loop = stop[0]
    loop.call_soon_threadsafe(lambda: [task.cancel() for task in asyncio.all_tasks(loop)])
    t.join(10)


async def _until_cancelled(coro) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await coro


def test_devices_finds_the_virtual_wrist_by_its_service(wrist, capsys) -> None:
    assert main(["devices", "--bumble", wrist, "--timeout", "1.5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(r["name"] == "AURA-CLI" and r["profile"] == "aura-ble" for r in rows), rows


def test_live_over_ble_through_the_hci_bridge(wrist, tmp_path, capsys) -> None:
    write_example_bundle(tmp_path / "toy.aura", window_samples=100, sample_rate_hz=50.0,
                         embedding_dim=32)
    assert main(["live", "--ble", "AURA-CLI", "--bumble", wrist, "--bundle",
                 str(tmp_path / "toy.aura"), "--duration", "8", "--json",
                 "--unknown-margin", "0.001", "--smoothing", "none"]) == 0
    events = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    labels = [e["label"] for e in events if e["kind"] == "label"]
    assert len(labels) >= 3 and labels.count("walking") >= 0.7 * len(labels)


def test_profile_matching_by_service_then_name() -> None:
    assert match_profile(None, ["0000ffe5-0000-1000-8000-00805f9a34fb"]) == "witmotion-ble"
    assert match_profile("Polar Sense B5A4", []) == "polar-verity"
    assert match_profile("Some headphones", ["0000110b-0000-1000-8000-00805f9b34fb"]) is None


def test_simulate_ble_needs_no_file(tmp_path) -> None:
    write_recording(tmp_path / "s.npz", session(["still"], 2.0))
    # a BLE profile streamed into a file is one hex line per notification
    assert main(["simulate", "--device", "aura-ble", "--recording", str(tmp_path / "s.npz"),
                 "--to", str(tmp_path / "c.hex")]) == 0
    lines = (tmp_path / "c.hex").read_text().splitlines()
    assert lines and all(len(x) % 2 == 0 and int(x, 16) >= 0 for x in lines)
