"""Many AURA streams decoded together (``decode_streams``) give exactly what each stream's
own decoder gives: the same samples, bit for bit, and the same state and counters after; a
stream the batch path cannot take is left untouched for ``feed``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from aura_bridge.aura import AuraStreamDecoder
from aura_bridge.aura._many import decode_streams
from aura_sdk.sim import VirtualDevice, synthetic_wrist


def _state(dec: AuraStreamDecoder) -> tuple[object, ...]:
    return (dec._seq_hi, dec._seen, dec._missing, dec._t_raw, dec._t_us, dec._tail,
            dec._skipping, dec.stats.as_dict(), dec.config)


def _device(rate: float, packet_s: float, seed: int) -> list[bytes]:
    dev = VirtualDevice("aura", synthetic_wrist(12.0, rate, seed), packet_s=packet_s)
    return [p.data for p in dev.packets()]


def _streams(n: int, rng: np.random.Generator) -> list[list[bytes]]:
    return [_device(float(rng.choice([25.0, 50.0, 100.0, 104.0, 200.0])),
                    float(rng.choice([0.02, 0.04, 0.1])), i) for i in range(n)]


def _mangle(data: bytes, rng: np.random.Generator) -> bytes:
    """One of the things a real link does to bytes."""
    kind = int(rng.integers(7))
    b = bytearray(data)
    if kind == 0 and len(b) > 4:  # a flipped bit
        b[int(rng.integers(len(b) - 1))] ^= 1 << int(rng.integers(8))
    elif kind == 1:  # cut mid-frame (the rest comes later, or never)
        b = b[: int(rng.integers(1, len(b)))]
    elif kind == 2:  # an empty frame (back-to-back delimiters are allowed)
        b = b"\x00" + b
    elif kind == 3:  # garbage before the frames
        b = bytes(rng.integers(1, 256, 5).astype(np.uint8)) + b
    elif kind == 4:  # the same bytes twice (duplicate frames)
        b = b + b
    elif kind == 5:  # a byte lost
        del b[int(rng.integers(len(b)))]
    else:  # zeros only
        b = bytearray(3)
    return bytes(b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_many_streams_decode_like_each_alone(seed: int) -> None:
    rng = np.random.default_rng(seed)
    packets = _streams(24, rng)
    mine = [AuraStreamDecoder() for _ in packets]
    twins = [AuraStreamDecoder() for _ in packets]
    for d in mine + twins:
        d.merge_frames = True
    for p, d, t in zip(packets, mine, twins, strict=True):  # HELLO and the first frames
        d.feed(p[0])
        t.feed(p[0])
    taken = fallback = 0
    pos = [1] * len(packets)
    while any(i < len(p) for i, p in zip(pos, packets, strict=True)):
        datas, live = [], []
        for s, p in enumerate(packets):
            if pos[s] >= len(p):
                continue
            k = int(rng.integers(1, 6))  # a tick's worth of packets
            data = b"".join(p[pos[s] : pos[s] + k])
            pos[s] += k
            if rng.random() < 0.1:
                data = _mangle(data, rng)
            datas.append(data)
            live.append(s)
        before = [copy.deepcopy(_state(mine[s])) for s in live]
        got = decode_streams([mine[s] for s in live], datas)
        for s, data, g, b0 in zip(live, datas, got, before, strict=True):
            want = [x for x in twins[s].feed(data) if hasattr(x, "acc")]
            if g is None:  # not taken: untouched, and its own decoder does the rest
                fallback += 1
                assert _state(mine[s]) == b0
                g_list = [x for x in mine[s].feed(data) if hasattr(x, "acc")]
            else:
                taken += 1
                g_list = [g]
            assert len(g_list) == len(want)
            for a, w in zip(g_list, want, strict=True):
                assert np.array_equal(a.acc, w.acc) and np.array_equal(a.gyro, w.gyro)
                assert np.array_equal(a.t, w.t) and a.seq == w.seq
            assert _state(mine[s]) == _state(twins[s])
    assert taken > 200 and fallback > 20  # both ways really ran


def test_a_stream_without_its_hello_is_left_to_its_decoder() -> None:
    p = _device(50.0, 0.04, 3)
    fresh = AuraStreamDecoder()
    assert decode_streams([fresh], [b"".join(p[1:4])]) == [None]
    assert fresh.stats.frames_ok == 0 and fresh.config is None
    assert decode_streams([], []) == []
