"""One scoring path: a window gets the same answer from ``classify``, ``recognize`` and
``LiveRecognizer`` (issue #14).

The real default bundle recognises a synthetic wrist recorded at the model's own rate. Every
label event of a fast replay (``smoothing="none"``) names its window on the recording's
timeline (``t_start_device``, ``t_end_device``); those exact samples, scored alone through
``AuraModel.classify`` and ``AuraModel.recognize``, must give the event's label, ``unknown``
decision, confidence, similarity and top labels.

Why the model's rate: there the resampler's output samples sit on the input samples, where
its windowed sinc is zero at every other tap, so a window cut out of the recording and the
same window inside the stream are the same numbers. At another rate an isolated window's
first and last 0.2 s see a kernel cut short by the cut itself: the inputs differ, not the
scoring, so such windows say nothing about one scoring path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aura_sdk import LabelEvent, LiveRecognizer, SensorSpec, load_bundle
from aura_sdk._recording import Recording
from aura_sdk.live import UNKNOWN
from aura_sdk.sim import synthetic_wrist

DEFAULT = Path(__file__).resolve().parents[2] / "sdk" / "aura_sdk" / "models" / "default.aura"

pytestmark = pytest.mark.skipif(not DEFAULT.is_file(),
                                reason="no embedded default bundle in this build (issue #6)")

TOL = 1e-6


@pytest.fixture(scope="module")
def model():
    return load_bundle(threads=1)


def _recording(rate: float) -> Recording:
    # still, swinging, turning, twice over, with different noise: windows both ways of the
    # bundle's unknown rejection
    a, b = synthetic_wrist(15.0, rate, seed=3), synthetic_wrist(15.0, rate, seed=4)
    t = np.concatenate([a.t, b.t + a.t[-1] + 1.0 / rate])
    return Recording(t=t, acc=np.concatenate([a.acc, b.acc]),
                     gyro=np.concatenate([a.gyro, b.gyro]))


def _events(model, rec: Recording, **kw) -> list[LabelEvent]:
    live = LiveRecognizer.from_replay(rec, model=model, realtime=False, smoothing="none",
                                      hop_s=1.0, health_log_s=None, placement="wrist", **kw)
    return [e for e in live if isinstance(e, LabelEvent)]


def _window(model, rec: Recording, e: LabelEvent) -> np.ndarray:
    """The samples of an event's window: device time is seconds since the first sample."""
    spec = model.input_spec
    assert e.t_start_device is not None and e.t_end_device is not None
    assert e.t_end_device - e.t_start_device == pytest.approx(spec.window_s, abs=1e-9)
    t = rec.t - rec.t[0]
    half = 0.5 / spec.sample_rate_hz  # sample times sit on the grid; take them by midpoints
    sel = (t >= e.t_start_device - half) & (t < e.t_end_device - half)
    assert int(sel.sum()) == spec.window_samples
    return rec.imu[sel]


@pytest.mark.parametrize("enrolled", [False, True], ids=["zero-shot", "few-shot head"])
def test_classify_recognize_and_live_give_each_window_the_same_answer(model, enrolled
                                                                     ) -> None:
    rate = model.input_spec.sample_rate_hz
    spec = SensorSpec(sample_rate_hz=rate, placement="wrist")
    rec = _recording(rate)
    if enrolled:
        # two enrolled labels beside the default set: the few-shot head and its feature rows
        # join the scoring, and the rejection margin skips the labels the head decided
        other = synthetic_wrist(15.0, rate, seed=9)
        model.enroll("holding still", [other.imu[: int(4 * rate)]], spec, persist=False)
        model.enroll("swinging an arm", [other.imu[int(5.5 * rate): int(9.5 * rate)]], spec,
                     persist=False)
    try:
        scorer = model.scorer()
        assert scorer.needs_features == enrolled
        events = _events(model, rec)
        assert len(events) == 26  # 30 s, 5 s windows, 1 s hop
        for e in events:
            x = _window(model, rec, e)
            d = model.recognize(x, spec)
            assert (d.label, d.unknown) == (e.label, e.unknown), e.t_start_device
            assert d.confidence == pytest.approx(e.confidence, abs=TOL)
            assert d.similarity == pytest.approx(e.similarity, abs=TOL)
            assert [k for k, _ in d.top_k] == [k for k, _ in e.top_k]
            np.testing.assert_allclose([v for _, v in d.top_k], [v for _, v in e.top_k],
                                       rtol=0, atol=TOL)
            probs = model.classify(x, spec)
            first = next(iter(probs))
            assert first == e.top_k[0][0]
            assert probs[first] == pytest.approx(e.confidence, abs=TOL)
            if not e.unknown:
                assert first == e.label
            assert sum(probs.values()) == pytest.approx(1.0, abs=1e-9)
        labels = [e.label for e in events]
        # the comparison covers both outcomes of the rejection, and real labels
        assert UNKNOWN in labels and len(set(labels) - {UNKNOWN}) >= 1, labels
        if enrolled:
            assert {"holding still", "swinging an arm"} & {e.top_k[0][0] for e in events}
    finally:
        for name in model.enrolled_labels:
            model.forget(name, persist=False)


def test_rejection_overrides_reach_both_paths_alike(model) -> None:
    rate = model.input_spec.sample_rate_hz
    spec = SensorSpec(sample_rate_hz=rate, placement="wrist")
    rec = _recording(rate)
    # a threshold between the events' similarities: some windows flip to unknown, some stay
    base = _events(model, rec)
    sims = sorted(e.similarity for e in base if not e.unknown)
    threshold = float(np.median(sims))
    events = _events(model, rec, unknown_threshold=threshold, unknown_margin=0.0)
    assert 0 < sum(e.unknown for e in events) < len(events)
    assert sum(e.unknown for e in events) != sum(e.unknown for e in base)
    for e in events:
        d = model.recognize(_window(model, rec, e), spec, unknown_threshold=threshold,
                            unknown_margin=0.0)
        assert (d.label, d.unknown) == (e.label, e.unknown)
        assert d.confidence == pytest.approx(e.confidence, abs=TOL)
