"""Lanes (aura_sdk.live._lanes): many clean streams preprocessed as arrays give exactly what
each stream's own preprocessor gives, and a stream leaves its lane for anything unusual."""

from __future__ import annotations

import numpy as np
import pytest

from aura_bridge import ImuSamples
from aura_sdk import load_bundle
from aura_sdk.live._sources import DecodedSource
from aura_sdk.live._stream import Stream, StreamConfig, process_streams
from aura_sdk.preprocessing import PreprocessConfig


class _NoLink:
    name = "none"


def _frames(rate: float, seconds: float, seed: int, per_frame: int) -> list[ImuSamples]:
    """Frames of a wrist-like signal with jittery device timestamps (one frame per read)."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    t = 10.0 + np.arange(n) / rate + rng.normal(0, 0.1 / rate, n)
    t = np.maximum.accumulate(t + 1e-6 * np.arange(n))
    ph = rng.uniform(0, 6.28, 6)
    x = np.sin(2 * np.pi * 1.7 * t[:, None] + ph) + 0.1 * rng.normal(size=(n, 6))
    x[:, 2] += 9.81
    return [ImuSamples(acc=x[i:i + per_frame, :3].copy(), gyro=x[i:i + per_frame, 3:].copy(),
                       t=t[i:i + per_frame].copy()) for i in range(0, n, per_frame)]


def _unusual(frames: list[ImuSamples], kind: str) -> list[ImuSamples]:
    out = list(frames)
    k = len(out) // 2
    if kind == "gap":  # 0.6 s of nothing
        del out[k:k + int(0.6 / (out[1].t[0] - out[0].t[0])) + 1]
    elif kind == "nan":  # one frame without gyroscope, then normal again
        f = out[k]
        out[k] = ImuSamples(acc=f.acc, gyro=np.full_like(f.gyro, np.nan), t=f.t)
    elif kind == "reorder":  # a late frame
        out[k], out[k + 1] = out[k + 1], out[k]
    elif kind == "restart":  # the device rebooted: its clock starts again
        shift = float(out[k].t[0]) - 0.5
        for i in range(k, len(out)):
            f = out[i]
            out[i] = ImuSamples(acc=f.acc, gyro=f.gyro, t=f.t - shift)
    return out


def _run(streams_frames: list[list[ImuSamples]], rates: list[float], lanes: dict | None,
         every: int):
    model = load_bundle()
    got = [([], [], []) for _ in streams_frames]
    streams = []
    for i in range(len(streams_frames)):
        def sink(_s, w, arrival, _h, i=i) -> None:
            got[i][0].append(w.x)
            got[i][1].extend(w.t_start.tolist())
            got[i][2].extend(arrival.tolist())
        source = DecodedSource(_NoLink(), "aura", rate_hz=rates[i])
        streams.append(Stream(f"s{i}", source, model.input_spec,
                              PreprocessConfig(), StreamConfig(), sink, lambda e: None,
                              lambda s: None, lanes=lanes))
    longest = max(len(f) for f in streams_frames)
    joined: set[int] = set()
    for j in range(longest):
        for s, frames in zip(streams, streams_frames, strict=True):
            if j < len(frames):
                s.inbox.append(([frames[j]], float(j)))
        if j % every == every - 1:
            process_streams(streams)
            joined |= {i for i, s in enumerate(streams) if s.lane is not None}
    process_streams(streams)
    stats = [s.stats() for s in streams]
    for s in streams:
        s._flush()
    return got, stats, len(joined)


@pytest.mark.parametrize("every", [1, 4])
def test_lanes_give_each_stream_what_its_own_preprocessor_gives(every: int) -> None:
    specs = [(50.0, 2, "none"), (100.0, 4, "none"), (52.0, 2, "gap"), (100.0, 4, "nan"),
             (200.0, 8, "reorder"), (50.0, 2, "restart"), (104.0, 4, "none")]
    frames = [_unusual(_frames(rate, 30.0, seed, per), kind)
              for seed, (rate, per, kind) in enumerate(specs)]
    rates = [r for r, _, _ in specs]
    own, own_stats, none_joined = _run(frames, rates, None, every)
    laned, lane_stats, joined = _run(frames, rates, {}, every)
    assert none_joined == 0 and joined == len(specs)  # every stream used a lane at some point
    for i, (a, b) in enumerate(zip(own, laned, strict=True)):
        xa, xb = np.concatenate(a[0]), np.concatenate(b[0])
        assert xa.shape[0] >= 9, specs[i]
        assert np.array_equal(xa, xb), specs[i]  # bit for bit
        assert a[1] == b[1], specs[i]  # the same windows' start times
        # credited to the same reads (read j arrived at float(j)); windows a flush closes get
        # the clock's time instead, which no threshold tells from a read on a machine up for
        # less than the reads' count of seconds: a read's time is a whole number of them
        n_reads = len(frames[i])
        reads = [x if float(x).is_integer() and x < n_reads else None for x in a[2]]
        assert reads == [x if float(x).is_integer() and x < n_reads else None
                         for x in b[2]], specs[i]
        assert sum(x is not None for x in reads) >= len(reads) - 2
    for sa, sb in zip(own_stats, lane_stats, strict=True):
        assert sa == sb  # the counters agree too (samples, windows, drops, gaps, rows)


def test_lane_streams_pushing_aura_bytes_decode_together_like_each_alone(monkeypatch) -> None:
    # a pushing link's bytes stay raw until the tick; lane streams' bytes are decoded for
    # all of them in one pass (aura_bridge decode_streams), the rest by their own decoders:
    # windows, credits and every counter (the decoders' included) equal the own path's
    import aura_sdk.live._stream as stream_mod
    from aura_sdk.sim import VirtualDevice, synthetic_wrist

    together = [0]  # streams the batch decoder took (it is called through, not replaced)
    real = stream_mod.decode_streams

    def counting(decoders, datas):
        got = real(decoders, datas)
        together[0] += sum(g is not None for g in got)
        return got

    monkeypatch.setattr(stream_mod, "decode_streams", counting)
    model = load_bundle()
    packets = []
    for i in range(6):
        rate = float([50.0, 100.0][i % 2])
        ps = [p.data for p in VirtualDevice("aura", synthetic_wrist(30.0, rate, i),
                                            packet_s=0.04).packets()]
        if i == 3:  # a corrupt frame and a lost one, mid-stream
            k = len(ps) // 2
            ps[k] = ps[k][:5] + bytes([ps[k][5] ^ 0x40]) + ps[k][6:]
            del ps[k + 7]
        packets.append(ps)

    def run(lanes: dict | None, every: int):
        got = [([], []) for _ in packets]
        streams = []
        for i in range(len(packets)):
            def sink(_s, w, arrival, _h, i=i) -> None:
                got[i][0].append(w.x)
                got[i][1].extend(arrival.tolist())
            streams.append(Stream(f"s{i}", DecodedSource(_NoLink(), "aura"), model.input_spec,
                                  PreprocessConfig(), StreamConfig(), sink, lambda e: None,
                                  lambda s: None, lanes=lanes))
        together[0] = 0
        for j in range(max(len(p) for p in packets)):
            for s, ps in zip(streams, packets, strict=True):
                if j < len(ps):
                    s.raw.append(ps[j])
                    s.raw_arrival.append(float(j))
            if j % every == every - 1:
                process_streams(streams)
        process_streams(streams)
        return got, [s.stats() for s in streams], together[0]

    own, own_stats, alone = run(None, 5)
    laned, lane_stats, taken = run({}, 5)
    assert alone == 0 and taken > 800  # lane streams decoded together, tick after tick
    for a, b in zip(own, laned, strict=True):
        assert len(a[0]) >= 5
        assert np.array_equal(np.concatenate(a[0]), np.concatenate(b[0]))
        assert a[1] == b[1]
    assert own_stats == lane_stats
    assert own_stats[3]["decoder_frames_corrupt"] == 1 and own_stats[3]["decoder_frames_lost"] >= 1
