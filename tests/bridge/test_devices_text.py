"""Text line decoder / encoder (Edge Impulse data-forwarder style)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from device_vectors.helpers import decode_all, random_chunks, random_imu, rows, stack
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_bridge._types import ImuSamples
from aura_bridge.devices import DeviceOptionError, get_profile, make_decoder, make_encoder
from aura_bridge.devices._text import TextLineDecoder, TextLineEncoder

G = 9.80665
DPS = math.pi / 180

# Vector from the Edge Impulse data forwarder documentation, "Protocol" section: a 3-axis
# accelerometer, one line per reading, values split with ','; the doc's Arduino example prints
# m/s^2. https://docs.edgeimpulse.com/docs/tools/edge-impulse-cli/cli-data-forwarder
EI_DOC_EXAMPLE = b"-0.12,-6.20,7.90\n-0.13,-6.19,7.91\n-0.14,-6.20,7.92\n-0.13,-6.20,7.90\n" \
                 b"-0.14,-6.20,7.91\n"
EI_DOC_VALUES = [[-0.12, -6.20, 7.90], [-0.13, -6.19, 7.91], [-0.14, -6.20, 7.92],
                 [-0.13, -6.20, 7.90], [-0.14, -6.20, 7.91]]


def test_edge_impulse_documentation_example():
    dec = make_decoder("text", columns="ax,ay,az")
    acc, gyro, t = stack(decode_all(dec, [EI_DOC_EXAMPLE]))
    np.testing.assert_array_equal(acc, EI_DOC_VALUES)
    assert np.isnan(gyro).all() and t is None and dec.stats.frames_ok == 5


def test_separators_line_ends_units_and_timestamp():
    data = (b"1000\t0\t0\t1\t90\t0\t-180\r\n"      # TAB, CRLF
            b"1020, 0.5 ,0,-1, 0,45,0\n"           # comma with spaces, LF
            b"1040 1 2 3 4 5 6\r")                 # spaces, CR
    dec = TextLineDecoder(accel_unit="g", gyro_unit="deg/s", timestamp="ms")
    acc, gyro, t = stack(decode_all(dec, [data]))
    np.testing.assert_array_equal(t, [1.0, 1.02, 1.04])
    np.testing.assert_array_equal(acc[:2], [[0, 0, G], [0.5 * G, 0, -G]])
    np.testing.assert_array_equal(gyro[0], [90 * DPS, 0, -180 * DPS])
    np.testing.assert_array_equal(acc[2], [G, 2 * G, 3 * G])


def test_column_mapping_skip_and_nan():
    dec = TextLineDecoder(columns=["gz", "-", "ax"], gyro_unit="rad/s")
    acc, gyro, _ = stack(decode_all(dec, [b"1.5,99,2\nnan,0,3\n"]))
    np.testing.assert_array_equal(acc[:, 0], [2, 3])
    np.testing.assert_array_equal(gyro[0], [np.nan, np.nan, 1.5])
    assert np.isnan(gyro[1]).all() and np.isnan(acc[:, 1:]).all()


@pytest.mark.parametrize("line", [
    b"1,2,3,4,5",            # too few values
    b"1,2,3,4,5,6,7",        # too many
    b"1,,2,3,4,5",           # empty field
    b"1,2,3,4,5,inf",        # not finite
    b"0x10,2,3,4,5,6",       # not decimal
    b"1_0,2,3,4,5,6",        # Python-only syntax
    b"accX,accY,accZ,gx,gy,gz",  # a header line
    "1,2,3,4,5,\u00e9".encode(),  # not ASCII
])
def test_malformed_lines_are_dropped_and_counted(line):
    dec = TextLineDecoder()
    acc, _, _ = stack(decode_all(dec, [line + b"\n1,2,3,4,5,6\n\n"]))
    np.testing.assert_array_equal(acc, [[1, 2, 3]])  # the good line after it survives
    assert dec.stats.frames_corrupt == 1 and dec.stats.bytes_dropped == len(line)


def test_over_long_line_is_bounded_and_skipped():
    dec = TextLineDecoder(max_line_bytes=64)
    junk = b"9" * 10_000
    out = []
    for chunk in random_chunks(junk, np.random.default_rng(17), 50):
        out += dec.feed(chunk)
        assert len(dec._line) <= 64  # never grows past the limit
    out += dec.feed(b",1,2\n4,5,6,7,8,9\n")
    acc, _, _ = stack(out)
    np.testing.assert_array_equal(acc, [[4, 5, 6]])
    assert dec.stats.frames_corrupt == 1 and dec.stats.bytes_dropped == 10_000 + 4


def _text(n: int, seed: int, **options) -> tuple[bytes, ImuSamples]:
    acc, gyro = random_imu(np.random.default_rng(seed), n)
    x = ImuSamples(acc=acc, gyro=gyro, t=np.arange(n) * 0.02)
    return b"".join(TextLineEncoder(**options).encode(x)), x


@pytest.mark.parametrize("options", [
    {},
    {"accel_unit": "g", "gyro_unit": "rad/s", "timestamp": "s", "separator": "\t",
     "newline": "\n"},
    {"columns": "gx,gy,gz,ax,ay,az", "timestamp": "ms", "separator": " ", "newline": "\r"},
])
def test_round_trip(options):
    data, x = _text(200, 18, **options)
    decoder_options = {k: v for k, v in options.items() if k not in ("separator", "newline")}
    acc, gyro, t = stack(decode_all(make_decoder("text", **decoder_options), [data]))
    scale_a = G if options.get("accel_unit") == "g" else 1.0
    scale_g = 1.0 if options.get("gyro_unit") == "rad/s" else DPS
    assert np.abs(acc - x.acc).max() <= 5e-7 * scale_a + 1e-12
    assert np.abs(gyro - x.gyro).max() <= 5e-7 * scale_g + 1e-12
    if options.get("timestamp"):
        np.testing.assert_allclose(t, x.t, rtol=0, atol=1e-9)


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(cuts=st.lists(st.integers(0, 20_000), max_size=80))
def test_any_chunking_gives_identical_samples(cuts):
    data, _ = _text(60, 19, timestamp="ms", newline="\r\n")
    data = b"garbage\r\n" + data[:500] + b"1,2\n" + data[500:]
    ref = stack(decode_all(TextLineDecoder(timestamp="ms"), [data]))
    bounds = sorted({0, len(data), *[c % (len(data) + 1) for c in cuts]})
    dec = TextLineDecoder(timestamp="ms")
    got = stack(decode_all(dec, [data[a:b] for a, b in itertools.pairwise(bounds)]))
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_array_equal(g, r)
    assert dec.stats.frames_corrupt == 3  # 'garbage', '1,2' and the line it split


def test_fuzz_and_resync():
    rng = np.random.default_rng(20)
    data, _ = _text(400, 21)
    lines = data.splitlines(keepends=True)
    dec = TextLineDecoder()
    fed = 0
    # 1) 700 kB of random bytes: nothing raises, the buffer stays bounded
    for _ in range(175):
        blob = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
        for s in dec.feed(blob):
            assert s.acc.shape[1] == 3
        assert len(dec._line) <= dec.max_line_bytes
        fed += len(blob)
    dec.feed(b"\n")
    # 2) valid lines after garbage bursts (garbage without line ends): every valid line that
    # follows a line end decodes, and nothing else does
    sent, stream = [], bytearray()
    alphabet = np.array([b for b in range(256) if b not in b"\r\n"], dtype=np.uint8)
    while len(stream) < 320_000:
        stream += rng.choice(alphabet, int(rng.integers(0, 80))).tobytes() + b"\n"
        line = lines[int(rng.integers(0, len(lines)))]
        stream += line
        sent.append(line)
    got = stack(decode_all(dec, random_chunks(bytes(stream), rng, 300)))
    want = stack(decode_all(TextLineDecoder(), sent))
    assert rows(got[0]) == rows(want[0]) and rows(got[1]) == rows(want[1])
    assert fed + len(stream) >= 1_000_000


def test_bad_options_and_profile():
    with pytest.raises(DeviceOptionError, match="columns"):
        TextLineDecoder(columns="ax,ax")
    with pytest.raises(DeviceOptionError, match="accel_unit"):
        TextLineDecoder(accel_unit="mg")
    with pytest.raises(DeviceOptionError, match="timestamp"):
        TextLineEncoder(timestamp="us")
    p = get_profile("text")
    assert p.baud_rate == 115200 and p.framing == "stream"  # type: ignore[attr-defined]
    assert make_encoder("text", decimals=2).encode(
        ImuSamples(acc=np.array([[1.0, 2.0, 3.0]]), gyro=np.array([[DPS, 0.0, np.nan]]))
    ) == [b"1.00,2.00,3.00,1.00,0.00,nan\r\n"]
