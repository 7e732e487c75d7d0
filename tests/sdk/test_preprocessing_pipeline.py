"""Streaming == batch, units, gravity convention, windows, padding (aura_sdk.preprocessing)."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aura_sdk import GRAVITY, ModelInputSpec, PreprocessingError, SensorSpec, SpecMismatchError
from aura_sdk.preprocessing import (
    PreprocessConfig,
    Preprocessor,
    concat_windows,
    pad_segment,
    preprocess,
    timestamps_from_last,
    to_si,
)

MODEL = ModelInputSpec(sample_rate_hz=50.0, window_samples=100, hop_samples=25, gravity="either")


def _recording(rng: np.random.Generator, rate: float, seconds: float, jitter: float):
    n = max(2, int(rate * seconds))
    t = 100.0 + np.arange(n) / rate + rng.uniform(-jitter, jitter, n) / rate
    x = np.column_stack([
        np.sin(2 * np.pi * rng.uniform(0.2, 3.0) * t + p) * s + o
        for p, s, o in zip(rng.uniform(0, 6, 6), rng.uniform(0.1, 3, 6), rng.uniform(-1, 1, 6),
                           strict=True)
    ])
    return t, x


def _stream(pre: Preprocessor, t: np.ndarray, x: np.ndarray, cuts: list[int]):
    bounds = [0, *sorted(set(cuts)), t.size]
    parts = [pre.feed(x[a:b], t[a:b]) for a, b in itertools.pairwise(bounds)]
    parts.append(pre.flush())
    return concat_windows(parts)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.sampled_from([10.0, 12.5, 25.0, 50.0, 52.0, 100.0, 200.0, 400.0, 1000.0]),
    seconds=st.floats(1.0, 12.0),
    jitter=st.floats(0.0, 0.45),
    seed=st.integers(0, 2**32 - 1),
    n_cuts=st.integers(0, 40),
    holes=st.integers(0, 2),
    corrupt=st.integers(0, 5),
    model_gravity=st.sampled_from(["either", "removed"]),
    pad=st.sampled_from([0.0, 0.3]),
)
def test_streaming_equals_batch_over_random_chunkings(
    rate, seconds, jitter, seed, n_cuts, holes, corrupt, model_gravity, pad
) -> None:
    rng = np.random.default_rng(seed)
    t, x = _recording(rng, rate, seconds, jitter)
    for _ in range(holes):  # gaps of 0.3-2 s
        i = int(rng.integers(1, t.size))
        t[i:] += rng.uniform(0.3, 2.0)
    for _ in range(corrupt):  # NaN rows and out-of-order timestamps
        i = int(rng.integers(0, t.size))
        if rng.random() < 0.5:
            x[i, int(rng.integers(0, 6))] = np.nan
        else:
            t[i] = t[max(0, i - 3)]
    spec = SensorSpec(sample_rate_hz=rate, accel_unit="g", gyro_unit="deg/s")
    model = MODEL.model_copy(update={"gravity": model_gravity})
    config = PreprocessConfig(pad_min_fraction=pad)
    batch_pre = Preprocessor(spec, model, config)
    batch = _stream(batch_pre, t, x, [])
    cuts = rng.integers(0, t.size, n_cuts).tolist()
    stream_pre = Preprocessor(spec, model, config)
    stream = _stream(stream_pre, t, x, cuts)
    np.testing.assert_array_equal(stream.x, batch.x)
    np.testing.assert_array_equal(stream.t_start, batch.t_start)
    np.testing.assert_array_equal(stream.padded, batch.padded)
    assert stream.gaps == batch.gaps
    assert stream_pre.stats == batch_pre.stats
    assert batch_pre.stats.dropped_nonfinite + batch_pre.stats.dropped_out_of_order <= corrupt
    assert len(batch.gaps) <= holes
    # the batch function is the same pipeline
    whole = preprocess(x, spec, model, t=t, config=config)
    np.testing.assert_array_equal(whole.x, batch.x)
    # windows never straddle a gap
    for g in batch.gaps:
        overlap = (batch.t_start < g.end_s - 1e-9) & (batch.t_end > g.start_s + 0.02 + 1e-9)
        assert not np.any(overlap)


def test_unit_conversion_to_si() -> None:
    raw = np.array([[1.0, -0.5, 0.0, 180.0, -90.0, 0.0]])
    si = to_si(raw, SensorSpec(sample_rate_hz=50, accel_unit="g", gyro_unit="deg/s"))
    np.testing.assert_allclose(si, [[GRAVITY, -0.5 * GRAVITY, 0.0, np.pi, -np.pi / 2, 0.0]])
    same = to_si(raw, SensorSpec(sample_rate_hz=50, accel_unit="m/s^2", gyro_unit="rad/s"))
    np.testing.assert_array_equal(same, raw)


@pytest.mark.parametrize("bad", [np.zeros((10, 5)), np.zeros(6), [["a"] * 6]])
def test_bad_shapes_get_a_clear_error(bad) -> None:
    with pytest.raises(PreprocessingError, match=r"\(T, 6\)|numeric"):
        preprocess(bad, SensorSpec(sample_rate_hz=50), MODEL)


def test_timestamps_must_match_samples() -> None:
    with pytest.raises(PreprocessingError, match="timestamps must have shape"):
        preprocess(np.zeros((10, 6)), SensorSpec(sample_rate_hz=50), MODEL, t=np.arange(9.0))


def test_windows_hop_and_times() -> None:
    spec = SensorSpec(sample_rate_hz=50)
    x = np.tile(np.arange(6.0), (500, 1))  # 10 s at the model rate
    w = preprocess(x, spec, MODEL)
    # windows of 100 with hop 25 over 500 samples: starts 0, 25, ..., 400
    assert len(w) == 17
    np.testing.assert_allclose(w.t_start, np.arange(17) * 0.5)
    np.testing.assert_allclose(w.t_end - w.t_start, 2.0)
    assert not w.padded.any()


def test_normalisation_uses_bundle_statistics() -> None:
    model = MODEL.model_copy(update={"norm_mean": (1, 2, 3, 4, 5, 6), "norm_std": (2,) * 6})
    x = np.tile([3.0, 2.0, 1.0, 4.0, 5.0, 8.0], (200, 1))
    w = preprocess(x, SensorSpec(sample_rate_hz=50), model)
    assert w.x.dtype == np.float32
    np.testing.assert_allclose(w.x[0, 0], [1.0, 0.0, -1.0, 0.0, 0.0, 1.0], atol=1e-6)


def test_short_recording_is_padded_only_when_configured() -> None:
    spec = SensorSpec(sample_rate_hz=50)
    x = np.tile(np.arange(6.0), (60, 1))
    assert len(preprocess(x, spec, MODEL)) == 0
    w = preprocess(x, spec, MODEL, config=PreprocessConfig(pad_min_fraction=0.5))
    assert len(w) == 1 and w.padded[0]
    np.testing.assert_allclose(w.x[0, -1], np.arange(6.0), atol=1e-5)  # edge mode repeats


@pytest.mark.parametrize(("mode", "expected_tail"), [("edge", 3.0), ("wrap", 1.0), ("zero", -7.0)])
def test_pad_modes(mode, expected_tail) -> None:
    seg = np.array([[1.0], [2.0], [3.0]])
    out = pad_segment(seg, 5, mode, mean=np.array([-7.0]))
    assert out.shape == (5, 1)
    np.testing.assert_array_equal(out[:3], seg)
    assert out[3, 0] == expected_tail


def test_gravity_removed_device_cannot_feed_a_raw_model() -> None:
    model = MODEL.model_copy(update={"gravity": "included"})
    with pytest.raises(SpecMismatchError, match="cannot be restored"):
        Preprocessor(SensorSpec(sample_rate_hz=50, gravity_removed=True), model)


def test_raw_device_feeding_a_gravity_removed_model_is_tracked_through_rotation() -> None:
    # A still wrist that slowly turns 90 degrees about x: raw accelerometer follows gravity,
    # the gyroscope reports the turn. After gravity removal nearly nothing must be left.
    fs = 50.0
    n = 1000
    t = np.arange(n) / fs
    angle = np.clip((t - 5.0) / 10.0, 0, 1) * np.pi / 2
    rate = np.gradient(angle, t)
    acc = np.column_stack([np.zeros(n), GRAVITY * np.sin(angle), GRAVITY * np.cos(angle)])
    gyro = np.column_stack([rate, np.zeros(n), np.zeros(n)])  # body rate about +x
    model = MODEL.model_copy(update={"gravity": "removed"})
    w = preprocess(np.hstack([acc, gyro]), SensorSpec(sample_rate_hz=fs), model, t=t)
    residual = np.abs(w.x[:, :, :3]).max()
    assert residual < 0.1, residual  # m/s^2, against 9.8 before removal
    keep = preprocess(np.hstack([acc, gyro]), SensorSpec(sample_rate_hz=fs), MODEL, t=t)
    assert np.abs(keep.x[:, :, :3]).max() > 9.0  # "either" leaves gravity in


def test_timestamps_from_last_back_dates_a_fifo_batch() -> None:
    np.testing.assert_allclose(timestamps_from_last(10.0, 4, 100.0), [9.97, 9.98, 9.99, 10.0])


def test_drops_are_counted_not_hidden() -> None:
    pre = Preprocessor(SensorSpec(sample_rate_hz=50), MODEL)
    x = np.zeros((10, 6))
    x[3, 2] = np.inf
    t = np.arange(10) / 50.0
    t[7] = t[2]
    pre.feed(x, t)
    assert pre.stats.dropped_nonfinite == 1
    assert pre.stats.dropped_out_of_order == 1
    assert pre.stats.samples_in == 10


def test_a_stream_ending_on_a_window_boundary_keeps_its_last_window() -> None:
    # 40 s at 50 Hz, timestamps i / 50: the model grid's last sample (0 + 1999 * 0.02) rounds
    # one ulp past the last input's time (39.98); it is still that sample, and the window it
    # completes (35-40 s) must come out
    model = ModelInputSpec(sample_rate_hz=50.0, window_samples=250, hop_samples=125,
                           gravity="either")
    t = np.arange(2000) / 50.0
    assert t[-1] < 1999 * 0.02
    x = np.random.default_rng(0).normal(size=(2000, 6))
    w = preprocess(x, SensorSpec(sample_rate_hz=50.0), model, t=t)
    assert len(w) == 15 and w.t_end[-1] == pytest.approx(40.0)
    np.testing.assert_allclose(w.x[-1][-1], (x[-1] - model.norm_mean) / model.norm_std,
                               rtol=1e-5, atol=1e-5)
