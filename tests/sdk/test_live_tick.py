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
