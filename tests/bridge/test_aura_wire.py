"""AURA v1 frames, CRC and COBS against known answers (the shared vector file, the specs)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from aura_vectors import canonical, load_vectors, message_from_vector

from aura_bridge.aura import (
    AckStatus,
    AuraAck,
    AuraCommand,
    AuraFrameError,
    AuraHello,
    AuraSampleFrame,
    Opcode,
    cobs_decode,
    cobs_encode,
    cobs_max_encoded_len,
    parse_frame,
    wrap_frame,
)
from aura_bridge.aura._wire import CRC_RESIDUE

VECTORS = load_vectors()


@pytest.mark.parametrize("v", VECTORS["vectors"], ids=lambda v: v["name"])
def test_python_encodes_every_vector_byte_exact(v: dict) -> None:
    frame = message_from_vector(v).to_frame()
    assert frame.hex() == v["frame"]
    assert wrap_frame(frame).hex() == v["wire"]
    assert wrap_frame(frame, "packet").hex() == v["frame"]


@pytest.mark.parametrize("v", VECTORS["vectors"], ids=lambda v: v["name"])
def test_python_parses_every_vector_to_its_fields(v: dict) -> None:
    msg = parse_frame(bytes.fromhex(v["frame"]))
    assert canonical(msg) == canonical(message_from_vector(v))
    assert cobs_decode(bytes.fromhex(v["wire"])[:-1]).hex() == v["frame"]


def test_worked_example_of_the_protocol_doc() -> None:
    # docs/protocol.md, "Worked example": samples_wrist_4, decoded by hand.
    frame = bytes.fromhex(next(v["frame"] for v in VECTORS["vectors"]
                               if v["name"] == "samples_wrist_4"))
    assert frame[:7].hex() == "02" + "3412" + "15cd5b07"
    assert struct.unpack_from("<6h", frame, 7) == (-512, 1203, 8190, 3, -7, 12)
    assert len(frame) == 11 + 4 * 12
    assert frame[-4:] == struct.pack("<I", zlib.crc32(frame[:-4]))


@pytest.mark.parametrize("r", VECTORS["reject"], ids=lambda r: r["name"])
def test_rejected_frames_raise_with_a_reason(r: dict) -> None:
    with pytest.raises(AuraFrameError) as err:
        parse_frame(bytes.fromhex(r["frame"]))
    assert err.value.code == r["error"]
    assert isinstance(err.value, ValueError) and err.value.reason in str(err.value)


def test_crc32_check_value_and_residue() -> None:
    assert zlib.crc32(b"123456789") == 0xCBF43926  # CRC-32/IEEE check value
    for v in VECTORS["vectors"]:
        assert zlib.crc32(bytes.fromhex(v["frame"])) == CRC_RESIDUE


# Examples from the COBS paper / its common description: (decoded, encoded).
COBS_EXAMPLES = [
    ("00", "0101"),
    ("0000", "010101"),
    ("11220033", "0311220233"),
    ("11223344", "0511223344"),
    ("11000000", "0211010101"),
    (bytes(range(1, 255)).hex(), "ff" + bytes(range(1, 255)).hex()),
    (bytes(range(0, 255)).hex(), "01ff" + bytes(range(1, 255)).hex()),
    (bytes(range(1, 256)).hex(), "ff" + bytes(range(1, 255)).hex() + "02ff"),
    (bytes(range(2, 256)).hex() + "00", "ff" + bytes(range(2, 256)).hex() + "0101"),
    (bytes(range(3, 256)).hex() + "0001", "fe" + bytes(range(3, 256)).hex() + "0201"),
]


@pytest.mark.parametrize(("plain", "encoded"), COBS_EXAMPLES)
def test_cobs_known_answers(plain: str, encoded: str) -> None:
    assert cobs_encode(bytes.fromhex(plain)).hex() == encoded
    assert cobs_decode(bytes.fromhex(encoded)).hex() == plain


def test_cobs_round_trip_random_and_bounds() -> None:
    rng = np.random.default_rng(7)
    for n in [1, 2, 253, 254, 255, 256, 508, 509, 779, 1000]:
        for zero_p in (0.0, 0.05, 0.5):
            data = rng.integers(1, 256, n, dtype=np.uint8)
            data[rng.random(n) < zero_p] = 0
            enc = cobs_encode(data.tobytes())
            assert 0 not in enc
            assert len(enc) <= cobs_max_encoded_len(n)
            assert cobs_decode(enc) == data.tobytes()


def test_cobs_decode_accepts_a_trailing_empty_block_after_a_full_one() -> None:
    # not what cobs_encode writes, but valid COBS: both decoders must take it
    block = bytes(range(1, 255))
    assert cobs_decode(b"\xff" + block + b"\x01") == block
    assert cobs_decode(b"\xff" + block + b"\x01\x02\x07") == block + b"\x00\x07"


@pytest.mark.parametrize("bad", ["", "00", "0311", "05112233", "02110001", "ff11"])
def test_cobs_decode_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="malformed COBS"):
        cobs_decode(bytes.fromhex(bad))


def test_command_helpers_and_argument_accessors() -> None:
    assert AuraCommand.set_rate(12.5, 9).rate_hz == 12.5
    assert AuraCommand.set_rate(12.5).args == struct.pack("<I", 12500)
    assert AuraCommand.set_range(16, 4000).ranges == (16, 4000)
    assert AuraCommand.start().rate_hz is None and AuraCommand.start().ranges is None
    assert AuraAck(Opcode.START, 1).ok and not AuraAck(Opcode.START, 1, AckStatus.BAD_STATE).ok
    cmd = parse_frame(AuraCommand.set_range(2, 250, 77).to_frame())
    assert isinstance(cmd, AuraCommand) and cmd.token == 77 and cmd.ranges == (2, 250)


def test_hello_for_ranges_uses_datasheet_scales() -> None:
    h = AuraHello.for_ranges(5, 104.0, 8, 2000, gravity_removed=True)
    assert h.accel_scale == pytest.approx(8 * 9.80665 / 32768, rel=1e-7)
    assert h.gyro_scale == pytest.approx(np.radians(2000) / 32768, rel=1e-7)
    back = parse_frame(h.to_frame())
    assert back == h  # float32-exact scales survive the wire unchanged
    assert h.sample_rate_mhz == 104000


@pytest.mark.parametrize("bad", [
    dict(device_id=-1), dict(device_id=1 << 64), dict(sample_rate_hz=0.0),
    dict(accel_range_g=70000), dict(accel_scale=0.0), dict(gyro_scale=float("inf")),
])
def test_hello_fields_out_of_range_raise(bad: dict) -> None:
    base = dict(device_id=1, sample_rate_hz=100.0, accel_range_g=4, gyro_range_dps=2000,
                accel_scale=0.001, gyro_scale=0.001)
    with pytest.raises(ValueError):
        AuraHello(**{**base, **bad}).to_frame()


@pytest.mark.parametrize(("seq", "t_us", "shape", "dtype"), [
    (-1, 0, (1, 6), np.int16), (70000, 0, (1, 6), np.int16), (0, 1 << 32, (1, 6), np.int16),
    (0, 0, (0, 6), np.int16), (0, 0, (65, 6), np.int16), (0, 0, (2, 3), np.int16),
    (0, 0, (2, 6), np.int32),
])
def test_samples_frame_rejects_bad_input(seq: int, t_us: int, shape: tuple, dtype: type) -> None:
    with pytest.raises(ValueError):
        AuraSampleFrame(seq, t_us, np.zeros(shape, dtype)).to_frame()


def test_protocol_doc_shows_the_vector_bytes() -> None:
    from aura_vectors import ROOT

    doc = (ROOT / "docs" / "protocol.md").read_text()
    compact = "".join(doc.split())
    by = {v["name"]: v for v in VECTORS["vectors"]}
    for name in ("samples_wrist_4", "command_set_rate_200hz", "nak_set_rate_bad_value"):
        assert by[name]["wire"] in compact, name
    block = next(b for b in doc.split("```") if "type HELLO, version 1" in b)
    hello_lines = [ln.split("  ")[0] for ln in block.strip().splitlines()]
    assert "".join("".join(hello_lines).split()) == by["hello_nano33_100hz"]["frame"]


def test_worked_example_si_values() -> None:
    from aura_vectors import hello_from_fields

    from aura_bridge.aura import AuraStreamDecoder

    by = {v["name"]: v for v in VECTORS["vectors"]}
    dec = AuraStreamDecoder()
    (s,) = dec.feed(bytes.fromhex(by["hello_nano33_100hz"]["wire"] + by["samples_wrist_4"]["wire"]))
    assert dec.config == hello_from_fields(by["hello_nano33_100hz"]["fields"])
    np.testing.assert_allclose(s.acc[0], [-0.6129, 1.4401, 9.8043], atol=1e-4)
    np.testing.assert_allclose(s.gyro[0], [0.0032, -0.0075, 0.0128], atol=1e-4)
    assert s.t is not None
    np.testing.assert_allclose(s.t, [123.426789, 123.436789, 123.446789, 123.456789], atol=1e-9)
