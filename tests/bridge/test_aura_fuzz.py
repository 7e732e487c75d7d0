"""Fuzzing the AURA v1 decoders with over 10^6 random and mutated bytes (seeded, deterministic).

Asserts: no exception; every emitted sample is one the sender sent, under the seq and time it
sent it; every intact frame that follows a 0x00 on the wire is decoded (resynchronisation
within one frame of any garbage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aura_bridge._types import ImuSamples
from aura_bridge.aura import (
    AuraHello,
    AuraPacketDecoder,
    AuraSampleFrame,
    AuraStreamDecoder,
    wrap_frame,
)

HELLO = AuraHello.for_ranges(0x5EED, 200.0, 8, 1000)
PERIOD_US = 5000


@dataclass
class Sent:
    seq: int
    t_us: int  # unwrapped, of the last sample
    raw: np.ndarray


def make_frames(rng: np.random.Generator, n_frames: int) -> list[Sent]:
    """Frames with 1..64 samples, values rich in 0x00 / 0xFF bytes; seq and t wrap."""
    frames, t = [], 0xFFFFFFFF - 50 * PERIOD_US
    for i in range(n_frames):
        n = int(rng.integers(1, 65)) if rng.random() < 0.3 else int(rng.integers(1, 12))
        scale = [1, 40, 3000, 32768][int(rng.integers(0, 4))]
        raw = np.clip(rng.normal(0, scale, (n, 6)), -32768, 32767).astype(np.int16)
        t += n * PERIOD_US
        frames.append(Sent((65400 + i) & 0xFFFF, t, raw))
    return frames


def check_emitted(out: list[ImuSamples], sent: dict[int, Sent]) -> set[int]:
    """Every emitted frame equals what was sent under its seq; returns the seqs seen.

    The receiver cannot know how often the u32 clock wrapped before it started listening, so
    its time axis may differ from the sender's by a whole number of wraps, the same for all.
    """
    seen = set()
    offsets = set()
    for s in out:
        assert s.seq is not None and s.seq in sent, "a sample frame the sender never sent"
        ref = sent[s.seq]
        np.testing.assert_array_equal(s.acc, ref.raw[:, :3] * HELLO.accel_scale)
        np.testing.assert_array_equal(s.gyro, ref.raw[:, 3:] * HELLO.gyro_scale)
        assert s.t is not None
        offset = round(s.t[-1] * 1e6) - ref.t_us
        assert offset % (1 << 32) == 0
        offsets.add(offset)
        expect_t = (ref.t_us + offset - PERIOD_US * np.arange(len(ref.raw))[::-1]) * 1e-6
        np.testing.assert_allclose(s.t, expect_t, rtol=0, atol=1e-9)
        seen.add(s.seq)
    assert len(offsets) <= 1
    return seen


def mutate_stream(rng: np.random.Generator, frames: list[Sent]) -> tuple[bytes, set[int]]:
    """The wire stream with damage; returns it and the seqs that MUST still decode."""
    buf = bytearray(b"\x00" + wrap_frame(HELLO.to_frame()))
    must = set()
    for f in frames:
        w = bytearray(wrap_frame(AuraSampleFrame(f.seq, f.t_us & 0xFFFFFFFF, f.raw).to_frame()))
        r = rng.random()
        if r < 0.08:  # garbage before the frame, sometimes containing 0x00
            g = rng.integers(0, 256, int(rng.integers(1, 1200)), dtype=np.uint8)
            if rng.random() < 0.5:
                g[g == 0] = 1
            buf += g.tobytes()
        elif r < 0.14:  # bit flips inside the frame
            for _ in range(int(rng.integers(1, 4))):
                w[int(rng.integers(0, len(w)))] ^= 1 << int(rng.integers(0, 8))
        elif r < 0.18:  # truncated (maybe including its delimiter)
            w = w[: int(rng.integers(0, len(w)))]
        elif r < 0.20:  # lost entirely
            continue
        intact = r < 0.08 or r >= 0.18  # garbage before it leaves the frame itself intact
        if intact and buf[-1] == 0:
            must.add(f.seq)
        buf += w
        if 0.20 <= r < 0.23:  # resent: the copy must be dropped as a duplicate
            buf += w
    return bytes(buf), must


def feed_in_random_chunks(rng: np.random.Generator, dec: AuraStreamDecoder,
                          data: bytes) -> list[ImuSamples]:
    out, i = [], 0
    while i < len(data):
        step = int(rng.integers(1, 4097))
        out += dec.feed(data[i:i + step])
        i += step
    return out


def test_random_bytes_never_decode_and_never_raise() -> None:
    rng = np.random.default_rng(20260401)
    total = 0
    for zero_density in (0.0, 0.004, 0.05, 0.3):
        dec = AuraStreamDecoder(config=HELLO)
        data = rng.integers(1, 256, 100_000, dtype=np.uint8)
        data[rng.random(data.size) < zero_density] = 0
        assert feed_in_random_chunks(rng, dec, data.tobytes()) == []
        assert dec.stats.frames_ok == 0 and dec.stats.samples == 0
        # every non-delimiter byte is dropped and counted, or still waits for a delimiter
        assert dec.stats.bytes_dropped + dec.pending_bytes == int((data != 0).sum())
        total += data.size
    assert total >= 400_000


def test_mutated_stream_only_sent_samples_and_resync_within_one_frame() -> None:
    rng = np.random.default_rng(424242)
    frames = make_frames(rng, 9000)
    data, must = mutate_stream(rng, frames)
    assert len(data) >= 600_000
    sent = {f.seq: f for f in frames}
    dec = AuraStreamDecoder()
    out = feed_in_random_chunks(rng, dec, data)
    got = check_emitted(out, sent)
    missing = sorted(must - got)
    assert not missing, f"intact frames after a delimiter were not decoded: {missing[:10]}"
    assert len([s.seq for s in out]) == len(got), "a duplicate was emitted twice"
    st = dec.stats
    assert st.frames_corrupt > 500 and st.frames_duplicate > 100
    assert st.samples == sum(len(s) for s in out)
    # every seq the sender used is either emitted or still counted lost
    assert st.frames_lost == len(frames) - len(got)


def test_packet_decoder_on_mutated_notifications() -> None:
    rng = np.random.default_rng(777)
    frames = make_frames(rng, 2500)
    sent = {f.seq: f for f in frames}
    dec = AuraPacketDecoder(config=HELLO)
    out, total, intact = [], 0, set()
    for f in frames:
        note = bytearray(AuraSampleFrame(f.seq, f.t_us & 0xFFFFFFFF, f.raw).to_frame())
        r = rng.random()
        if r < 0.2:
            note[int(rng.integers(0, len(note)))] ^= 1 << int(rng.integers(0, 8))
        elif r < 0.3:
            note = note[: int(rng.integers(0, len(note)))]
        elif r < 0.35:
            note = bytearray(rng.integers(0, 256, int(rng.integers(0, 300)), dtype=np.uint8))
        else:
            intact.add(f.seq)
        total += len(note)
        out += dec.feed(bytes(note))
    assert check_emitted(out, sent) == intact
    assert total >= 100_000
