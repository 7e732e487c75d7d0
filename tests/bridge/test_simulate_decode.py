"""`aura simulate` -> capture -> `aura decode` round trips, over files, a real pty and TCP."""

import asyncio

import numpy as np
import pytest
import serial

from aura_bridge.devices import get_profile, profile_names
from aura_sdk._decode import decode_capture
from aura_sdk._recording import read_recording
from aura_sdk.cli import main
from aura_sdk.sim import PtyLink, VirtualDevice, play, serve_tcp, stream_bytes, synthetic_wrist

# One LSB of each profile's default configuration, in SI units (from each profile's scale
# factors); decode(encode(x)) must land within half of it: rounding, nothing more.
G = 9.80665
DEG = np.pi / 180


def _tolerance(name: str) -> tuple[float, float]:
    table = {
        "witmotion": (16 * G / 32768, 2000 * DEG / 32768),
        "witmotion-ble": (16 * G / 32768, 2000 * DEG / 32768),
        "metawear": (16 * G / 32768, 2000 * DEG / 32768),
        "thingy52": (G / 1024, DEG / 32),
        "polar-verity": (G / 1000, 2000 * DEG / 32768),
        "polar-h10": (G / 1000, 2000 * DEG / 32768),
        "text": (1e-6, 1e-6),  # six decimals on the wire
    }
    acc, gyro = table.get(name, (16 * G / 32768, 2000 * DEG / 32768))
    return acc, gyro


@pytest.mark.parametrize("device", profile_names())
def test_simulate_to_file_then_decode_reproduces_the_samples(tmp_path, device, capsys) -> None:
    profile = get_profile(device)
    cap = tmp_path / "cap.bin"
    csv = tmp_path / "out.csv"
    rate = profile.sample_rate_hz
    assert main(["simulate", "--device", device, "--synthetic", "4", "--to", str(cap)]) == 0
    assert main(["decode", "--device", device, str(cap), "-o", str(csv)]) == 0
    src = synthetic_wrist(4.0, rate)
    out = read_recording(csv)
    acc_rows = out.acc[~np.isnan(out.acc).any(axis=1)]
    gyro_rows = out.gyro[~np.isnan(out.gyro).any(axis=1)]
    tol_a, tol_g = _tolerance(device)
    # every sent sample comes back, in order, within the device's quantisation
    if acc_rows.size:
        assert acc_rows.shape[0] == len(src)
        assert np.abs(acc_rows - src.acc).max() <= 0.5 * tol_a * (1 + 1e-6)
    if gyro_rows.size:
        assert gyro_rows.shape[0] == len(src)
        assert np.abs(gyro_rows - src.gyro).max() <= 0.5 * tol_g * (1 + 1e-6)
    assert acc_rows.size or gyro_rows.size
    if profile.has_timestamps:
        t_acc = out.t[~np.isnan(out.acc).any(axis=1)] if acc_rows.size else out.t
        np.testing.assert_allclose(np.diff(t_acc), 1 / rate, atol=2e-3)


def test_pyserial_reads_the_virtual_device_byte_exact_over_a_pty() -> None:
    dev = VirtualDevice("witmotion", synthetic_wrist(2.0, 10.0))
    expected = stream_bytes(dev.packets())

    async def scenario() -> bytes:
        with PtyLink() as link:
            port = serial.Serial(link.port, 115200, timeout=0.05)
            got = bytearray()
            try:
                sender = asyncio.create_task(play(dev.packets(), link.send, realtime=False))
                while len(got) < len(expected):
                    got += await asyncio.to_thread(port.read, 4096)
                await sender
            finally:
                port.close()
            return bytes(got)

    assert asyncio.run(asyncio.wait_for(scenario(), 20)) == expected


def test_tcp_virtual_device_streams_from_the_start_to_each_client() -> None:
    dev = VirtualDevice("text", synthetic_wrist(1.0, 50.0))
    expected = stream_bytes(dev.packets())

    async def scenario() -> list[bytes]:
        port_q: asyncio.Queue[int] = asyncio.Queue()
        server = asyncio.create_task(serve_tcp(dev, realtime=False,
                                               ready=port_q.put_nowait, max_clients=2))
        port = await port_q.get()
        out = []
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            out.append(await reader.read(-1))
            writer.close()
            await writer.wait_closed()
        await server
        return out

    assert asyncio.run(asyncio.wait_for(scenario(), 20)) == [expected, expected]


def test_realtime_pacing_follows_the_recording_clock() -> None:
    dev = VirtualDevice("text", synthetic_wrist(0.5, 50.0), packet_s=0.1)
    stamps: list[float] = []

    async def send(_: bytes) -> None:
        stamps.append(asyncio.get_running_loop().time())

    asyncio.run(play(dev.packets(), send, realtime=True, speed=2.0))
    # 5 packets covering 0.1 s each, at double speed: the last goes out ~0.2 s after the first
    assert len(stamps) == 5
    assert 0.15 < stamps[-1] - stamps[0] < 0.6


def test_decode_refuses_an_unknown_device_listing_valid_ones(tmp_path, capsys) -> None:
    (tmp_path / "c.bin").write_bytes(b"\x00" * 10)
    assert main(["decode", "--device", "nope", str(tmp_path / "c.bin")]) == 1
    assert "valid names" in capsys.readouterr().err


def test_decode_of_garbage_says_nothing_was_decodable(tmp_path) -> None:
    from aura_sdk import ConfigError

    with pytest.raises(ConfigError, match="no witmotion samples"):
        decode_capture("witmotion", bytes(range(256)) * 4)
