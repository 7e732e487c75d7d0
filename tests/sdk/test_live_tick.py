"""The live tick: many reads (and many streams) processed at once give what one read at a time
gives, and each window is credited to the read whose bytes completed it."""

from __future__ import annotations

import numpy as np
import pytest

from aura_sdk import load_bundle
from aura_sdk.live._sources import DecodedSource
from aura_sdk.live._stream import Stream, StreamConfig, process_streams
from aura_sdk.preprocessing import PreprocessConfig
from aura_sdk.sim import VirtualDevice, synthetic_wrist


class _NoLink:
    name = "none"


def _cut_stream(seconds: float, rate: float, seed: int, cuts: int, cut_seed: int
                ) -> list[bytes]:
    """A virtual wrist's AURA byte stream cut at ``cuts`` random places (a link's reads)."""
    data = b"".join(p.data for p in VirtualDevice(
        "aura", synthetic_wrist(seconds, rate, seed), packet_s=0.04).packets())
    rng = np.random.default_rng(cut_seed)
    at = np.sort(rng.choice(np.arange(1, len(data)), cuts, replace=False))
    return [data[a:b] for a, b in zip(np.r_[0, at], np.r_[at, len(data)], strict=True)]


def _stream(model, sink) -> Stream:
    return Stream("s", DecodedSource(_NoLink(), "aura"), model.input_spec, PreprocessConfig(),
                  StreamConfig(), sink, lambda e: None, lambda s: None)


@pytest.mark.parametrize("rate", [50.0, 52.0, 100.0, 200.0])
def test_reads_staged_together_window_and_credit_like_one_at_a_time(rate: float) -> None:
    model = load_bundle()
    packets = list(VirtualDevice("aura", synthetic_wrist(24.0, rate, 0), packet_s=0.04).packets())

    last_t: list[float] = []  # device time of each read's last sample
    ends: list[float] = []

    def run(every: int) -> tuple[list[float], np.ndarray]:
        arrivals: list[float] = []
        xs: list[np.ndarray] = []
        ends.clear()

        def sink(_s, w, arrival, _h) -> None:
            arrivals.extend(arrival.tolist())
            xs.append(w.x)
            ends.extend(w.t_end.tolist())

        s = _stream(model, sink)
        for i, p in enumerate(packets):
            samples = [m for m in s.source.decoder.feed(p.data) if hasattr(m, "acc")]
            s.inbox.append((samples, float(i)))  # read i "arrived" at time i
            if every == 1:
                last_t.append(float(samples[-1].t[-1]) if samples else -np.inf)
            if i % every == every - 1:
                process_streams([s])
        process_streams([s])
        return arrivals, np.concatenate(xs)

    one_by_one, x1 = run(1)
    batched, x7 = run(7)
    assert len(one_by_one) == 8  # (24 - 5) / 2.5 + 1 windows
    # the same windows, bit for bit, each credited to the read that completed it
    assert np.array_equal(x1, x7)
    assert batched == one_by_one
    # and that read is the first that reaches past the window's last sample by the
    # resampler's 0.2 s look-ahead (the read before it falls short)
    for r, end in zip(one_by_one, ends, strict=True):
        reach = end - 0.02 + 0.2
        assert last_t[int(r)] > reach and last_t[int(r) - 1] <= reach + 2.0 / rate


def test_chunks_decoded_together_keep_each_chunks_samples_and_arrival() -> None:
    # a pushing link leaves raw chunks; the tick decodes them in one call and must still
    # know which chunk (arrival) completed which samples: exactly as decoding each alone
    model = load_bundle()
    chunks = _cut_stream(6.0, 100.0, 3, 60, 0)

    alone = _stream(model, lambda *a: None)
    expected = []  # (arrival, t) per chunk that completed samples
    for i, c in enumerate(chunks):
        got = alone.source.decoder.feed(c)
        t = [s.t for s in got if hasattr(s, "acc")]
        if t:
            expected.append((float(i), np.concatenate(t)))

    together = _stream(model, lambda *a: None)
    for start in range(0, len(chunks), 9):  # ticks of nine chunks
        part = chunks[start:start + 9]
        together.raw.extend(part)
        together.raw_arrival.extend(float(start + k) for k in range(len(part)))
        together._unpack_raw()
    got = [(arr, np.concatenate([b.t for b in batches])) for batches, arr in together.inbox]
    # the first tick also holds the device's HELLO (not a sample frame): which of its chunks
    # completed which samples is unknown, so all of them count from its last chunk
    first = [e for e in expected if e[0] < 9]
    assert got[0][0] == 8.0
    np.testing.assert_array_equal(got[0][1], np.concatenate([t for _, t in first]))
    got, expected = got[1:], expected[len(first):]
    assert len(got) == len(expected) > 20
    for (a1, t1), (a2, t2) in zip(got, expected, strict=True):
        assert a1 == a2
        np.testing.assert_array_equal(t1, t2)


def test_raw_chunks_through_a_lane_match_the_own_path() -> None:
    # a pushing link's chunks, collected straight into a lane (no object per chunk), give the
    # windows, credits and counters of the stream's own path
    model = load_bundle()
    chunks = _cut_stream(30.0, 50.0, 4, 600, 1)

    def run(lanes: dict | None):
        got: list = []

        def sink(_s, w, arrival, _h) -> None:
            got.append((w.x, w.t_start.tolist(), arrival.tolist()))

        s = Stream("s", DecodedSource(_NoLink(), "aura", rate_hz=50.0), model.input_spec,
                   PreprocessConfig(), StreamConfig(), sink, lambda e: None, lambda s: None,
                   lanes=lanes)
        in_lane = 0
        for start in range(0, len(chunks), 7):
            part = chunks[start:start + 7]
            s.raw.extend(part)
            s.raw_arrival.extend(float(start + k) for k in range(len(part)))
            process_streams([s])
            in_lane += s.lane is not None
        return got, s.stats(), in_lane

    own, own_stats, never = run(None)
    laned, lane_stats, ticks_in_lane = run({})
    assert never == 0 and ticks_in_lane > 50
    assert len(own) == len(laned) >= 8
    for (xa, ta, aa), (xb, tb, ab) in zip(own, laned, strict=True):
        assert np.array_equal(xa, xb) and ta == tb and aa == ab
    assert own_stats == lane_stats


def test_a_polled_chunk_of_several_frames_becomes_one_read_per_frame() -> None:
    # a polled link's chunk brings the packets since the last poll at once; its stamp is
    # the arrival of the last: each earlier frame came earlier by the device time between
    # them, never before the previous poll; a pushed chunk (since == arrival) stays whole
    from aura_sdk.live._stream import _per_frame

    t = 5.0 + np.arange(12) * 0.01  # 3 frames of 4 samples: last samples 5.03, 5.07, 5.11
    frames, arrivals = _per_frame(t, 4, [3], [10.0], [9.95])
    assert frames == [1, 1, 1]
    assert arrivals == pytest.approx([9.95, 9.96, 10.0])  # 9.92 is before the last poll
    assert _per_frame(t, 4, [1, 2], [9.0, 10.0], [9.0, 10.0]) == ([1, 2], [9.0, 10.0])
