"""Windows encoded ahead (``LiveRecognizer(early=True)``): the same events, fewer waits.

A device at the model's rate whose samples sit on the model's grid has its next window
settled before the look-ahead that confirms it arrives; the recogniser encodes it then and,
when the window comes, uses that embedding if the window is the same numbers. The events must
be exactly those of a recogniser that encodes every window when it comes; a window that
changed in between (a late sample off the grid) must be encoded again; and another rate must
never be encoded ahead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aura_sdk import LabelEvent, LiveRecognizer, load_bundle
from aura_sdk._recording import Recording
from aura_sdk.sim import synthetic_wrist

DEFAULT = Path(__file__).resolve().parents[2] / "sdk" / "aura_sdk" / "models" / "default.aura"

pytestmark = pytest.mark.skipif(not DEFAULT.is_file(),
                                reason="no embedded default bundle in this build (issue #6)")


@pytest.fixture(scope="module")
def model():
    return load_bundle(threads=1)


def _run(model, rec: Recording, early: bool, labels=None) -> tuple[list[LabelEvent], dict]:
    # played at 10x real time: a tick for each 40-ms packet, as from a device
    live = LiveRecognizer.from_replay(rec, model=model, realtime=True, speed=10.0,
                                      health_log_s=None, placement="wrist", early=early,
                                      labels=labels, chunk_s=0.04)
    events = [e for e in live if isinstance(e, LabelEvent)]
    (health,) = live.health().values()
    return events, health


def _same(a: list[LabelEvent], b: list[LabelEvent]) -> None:
    assert len(a) == len(b) and a
    for x, y in zip(a, b, strict=True):
        assert (x.label, x.unknown, x.top_k) == (y.label, y.unknown, y.top_k)
        assert (x.confidence, x.similarity) == (y.confidence, y.similarity)
        assert (x.t_start_device, x.t_end_device) == (y.t_start_device, y.t_end_device)


@pytest.mark.parametrize("labels", [None, ["walking", "a person waving"]],
                         ids=["default set", "free text"])
def test_windows_encoded_ahead_give_the_same_events(model, labels) -> None:
    rec = synthetic_wrist(40.0, model.input_spec.sample_rate_hz, seed=5)
    plain, h0 = _run(model, rec, early=False, labels=labels)
    ahead, h1 = _run(model, rec, early=True, labels=labels)
    _same(plain, ahead)
    assert h0["windows_encoded_early"] == 0 and h0["early_inference_ms_total"] == 0
    assert h1["windows_encoded_early_unused"] == 0
    # every window but those the end of the data completes was encoded ahead
    assert h1["windows_encoded_early"] >= len(ahead) - 2, (h1, len(ahead))
    assert h1["early_inference_ms_total"] > 0
    # the encoder waited for none of those
    assert h1["inference_ms_total"] < h0["inference_ms_total"]


def test_a_window_changed_after_it_was_encoded_is_encoded_again(model) -> None:
    # samples nudged off the grid every 3.3 s: the windows around them are not settled ahead
    # (the resampler computes those outputs from their neighbours), and any encoded ahead
    # before a nudge arrived must not be used
    rate = model.input_spec.sample_rate_hz
    rec = synthetic_wrist(40.0, rate, seed=6)
    t = rec.t.copy()
    t[100::165] += 0.3 / rate  # (not the first: it sets the grid)
    rec = Recording(t=t, acc=rec.acc, gyro=rec.gyro)
    plain, _ = _run(model, rec, early=False)
    ahead, h = _run(model, rec, early=True)
    _same(plain, ahead)
    assert 0 < h["windows_encoded_early"] < len(ahead)
    # some were encoded ahead and then came otherwise (a nudged sample in their look-ahead)
    assert h["windows_encoded_early_unused"] >= 1, h


def test_another_rate_is_never_encoded_ahead(model) -> None:
    rec = synthetic_wrist(30.0, 2 * model.input_spec.sample_rate_hz, seed=7)
    plain, _ = _run(model, rec, early=False)
    ahead, h = _run(model, rec, early=True)
    _same(plain, ahead)
    assert h["windows_encoded_early"] == 0 and h["early_inference_ms_total"] == 0


def test_many_streams_do_not_encode_ahead(model) -> None:
    rec = synthetic_wrist(20.0, model.input_spec.sample_rate_hz, seed=8)
    live = LiveRecognizer(model=model, health_log_s=None, early=True)
    for i in range(16):  # a gateway: lanes, one encoder call a tick for all of them
        live.add_replay(rec, realtime=False, name=f"w{i}", placement="wrist")
    events = [e for e in live if isinstance(e, LabelEvent)]
    assert events and all(h["windows_encoded_early"] == 0 for h in live.health().values())
    assert np.isfinite([e.confidence for e in events]).all()
