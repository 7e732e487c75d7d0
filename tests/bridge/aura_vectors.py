"""Shared helpers for the AURA v1 tests: the test-vector file and a canonical message text.

The canonical text is the one ``firmware_bridge/c/test/aura_cli.c`` prints, so Python and C
results compare as strings.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from aura_bridge.aura import AuraAck, AuraCommand, AuraHello, AuraSampleFrame

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "firmware_bridge" / "c"
VECTORS_PATH = C_DIR / "test" / "aura_v1_vectors.json"


def load_vectors() -> dict[str, Any]:
    return json.loads(VECTORS_PATH.read_text())


def f32_bits(x: float) -> str:
    return struct.pack(">f", x).hex()


def hello_from_fields(f: dict[str, Any]) -> AuraHello:
    return AuraHello(
        device_id=int(f["device_id"], 16),
        sample_rate_hz=f["sample_rate_mhz"] / 1000.0,
        accel_range_g=f["accel_range_g"],
        gyro_range_dps=f["gyro_range_dps"],
        accel_scale=f["accel_scale"],
        gyro_scale=f["gyro_scale"],
        gravity_removed=f["gravity_removed"],
        version=f["version"],
    )


def message_from_vector(v: dict[str, Any]) -> AuraHello | AuraSampleFrame | AuraCommand | AuraAck:
    f = v["fields"]
    if v["kind"] == "hello":
        return hello_from_fields(f)
    if v["kind"] == "samples":
        return AuraSampleFrame(f["seq"], f["t_us"], np.array(f["raw"], np.int16).reshape(-1, 6))
    if v["kind"] == "command":
        return AuraCommand(f["opcode"], f["token"], bytes.fromhex(f["args"]))
    return AuraAck(f["opcode"], f["token"], f["status"])


def canonical(msg: object) -> str:
    """One line per message, exactly as aura_cli prints it."""
    if isinstance(msg, AuraHello):
        return (f"HELLO {msg.version} {int(msg.gravity_removed)} {msg.device_id:016x} "
                f"{msg.sample_rate_mhz} {msg.accel_range_g} {msg.gyro_range_dps} "
                f"{f32_bits(msg.accel_scale)} {f32_bits(msg.gyro_scale)}")
    if isinstance(msg, AuraSampleFrame):
        values = " ".join(str(int(v)) for v in msg.raw.ravel())
        return f"SAMPLES {msg.seq} {msg.t_us} {msg.raw.shape[0]} {values}"
    if isinstance(msg, AuraCommand):
        return f"COMMAND {msg.opcode} {msg.token} {msg.args.hex() or '-'}"
    if isinstance(msg, AuraAck):
        return f"ACK {msg.opcode} {msg.token} {msg.status}"
    raise TypeError(type(msg))


def c_command_line(v: dict[str, Any]) -> str:
    """The aura_cli line that makes C encode vector ``v``."""
    f = v["fields"]
    if v["kind"] == "hello":
        return (f"hello {f['version']} {int(f['gravity_removed'])} {f['device_id']} "
                f"{f['sample_rate_mhz']} {f['accel_range_g']} {f['gyro_range_dps']} "
                f"{f['accel_scale_bits']} {f['gyro_scale_bits']}")
    if v["kind"] == "samples":
        raw = np.array(f["raw"]).ravel()
        return f"samples {f['seq']} {f['t_us']} {len(raw) // 6} " + " ".join(map(str, raw))
    if v["kind"] == "command":
        return f"command {f['opcode']} {f['token']} {f['args'] or '-'}"
    return f"ack {f['opcode']} {f['token']} {f['status']}"
