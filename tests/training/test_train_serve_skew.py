"""Train/serve skew: the training path and the device runtime make identical model inputs.

One raw recording (device units, jittered timestamps, dropped samples, a gap) goes through
the training pipeline (``stream_windows`` and the ``ClipWindower`` that builds batches) and
through ``aura_sdk.preprocessing.preprocess`` exactly as ``AuraModel.windows`` calls it;
the windows must be bit-identical. Augmentation is then checked for its physics.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_train_config import tiny_corpus

pytest.importorskip("torch")

from aura_sdk import GRAVITY, ModelInputSpec, SensorSpec
from aura_sdk._model import _MIN_FRACTION
from aura_sdk.preprocessing import PreprocessConfig, preprocess
from aura_training.corpus import CorpusReader, ImuStream, Sample
from aura_training.train import (
    DEFAULT_INPUT_SPEC,
    MIRROR,
    AugmentConfig,
    ClipWindower,
    DataConfig,
    augment_imu,
    random_rotation,
    stream_mix,
    stream_windows,
)
from aura_training.train._data import collate

# statistics of the kind a run computes (pooled per sensor), so normalisation is exercised
SPEC = DEFAULT_INPUT_SPEC.model_copy(update={
    "norm_mean": (-0.36, -0.36, -0.36, 0.03, 0.03, 0.03),
    "norm_std": (8.98, 8.98, 8.98, 1.49, 1.49, 1.49)})


def _runtime(imu: np.ndarray, sensor: SensorSpec, t: np.ndarray, spec: ModelInputSpec):
    """What ``AuraModel.windows`` does on the device."""
    return preprocess(imu, sensor, spec, t=t, config=PreprocessConfig(
        pad_min_fraction=_MIN_FRACTION))


def _device_recording() -> tuple[Sample, ImuStream]:
    """A corpus clip's stream re-expressed as a g / deg/s device with a 0.6 s gap."""
    sample = next(s for s in CorpusReader(tiny_corpus(), "train") if len(s.timeline) > 1)
    st = sample.imu["left_wrist"]
    keep = ~((st.t > 7.0) & (st.t < 7.6))  # a hole longer than the gap tolerance
    data = st.data[keep].astype(np.float64)
    data[:, :3] /= GRAVITY
    data[:, 3:] *= 180.0 / np.pi
    spec = st.spec.model_copy(update={"accel_unit": "g", "gyro_unit": "deg/s"})
    raw = ImuStream(t=st.t[keep], data=data.astype(np.float32), spec=spec,
                    location="left_wrist")
    return dataclasses.replace(sample, imu={"left_wrist": raw}), raw


def test_training_path_equals_runtime_path_bit_for_bit() -> None:
    _, raw = _device_recording()
    runtime = _runtime(raw.data, raw.spec, raw.t, SPEC)
    train = stream_windows(raw, SPEC, pad_min_fraction=DataConfig(dir=".").pad_min_fraction)
    assert len(runtime) >= 3 and runtime.gaps  # the gap really split the stream
    assert train.x.dtype == np.float32 and train.x.shape == runtime.x.shape
    assert np.array_equal(train.x, runtime.x)
    assert np.array_equal(train.t_start, runtime.t_start)
    assert np.array_equal(train.padded, runtime.padded)
    # an augmentation switched on but set to identity changes nothing either
    ident = AugmentConfig(rotate=False, mirror_prob=0.0, gain_std=0.0, acc_noise_std=0.0,
                          gyro_noise_std=0.0, time_shift=False)
    same = stream_windows(raw, SPEC, augment=ident, rng=np.random.default_rng(0))
    assert np.array_equal(same.x, runtime.x)
    # and the training default pads short segments the way the runtime does
    assert DataConfig(dir=".").pad_min_fraction == _MIN_FRACTION


def test_batch_windows_are_the_runtime_windows() -> None:
    sample, raw = _device_recording()
    runtime = _runtime(raw.data, raw.spec, raw.t, SPEC)
    w = ClipWindower(SPEC, ("imu", "mocap"), {}, np.zeros(0, np.int64), seed=0,
                     augment=AugmentConfig(enabled=False), pad_min_fraction=_MIN_FRACTION)
    items = w(sample, epoch=5)
    assert len(items) >= 2
    starts = list(runtime.t_start)
    for it in items:
        i = starts.index(it.start_s)
        assert np.array_equal(it.imu, runtime.x[i])
        assert it.mocap is not None and it.mocap.shape == (50, 17, 3)
        # mocap frames are the same 5 s as the IMU window
        a = round(it.start_s * sample.mocap_fps)
        assert sample.mocap is not None and np.array_equal(it.mocap, sample.mocap[a:a + 50])
        # wholly inside one labelled stretch, and labelled by it
        inside = [e for e in sample.timeline
                  if e.start_s <= it.start_s + 1e-9 and it.start_s + 5.0 <= e.end_s + 1e-9]
        assert [e.activity for e in inside] == [it.activity]
    # windows that straddle two stretches (or the gap) are left out
    assert len(items) < len(runtime)


def test_rotation_and_mirror_follow_the_physics() -> None:
    rng = np.random.default_rng(7)
    r = random_rotation(rng)
    assert np.allclose(r @ r.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(r), 1.0)
    x = np.random.default_rng(1).normal(size=(200, 6)) * [9.8, 9.8, 9.8, 3, 3, 3]
    only_rot = AugmentConfig(rotate=True, mirror_prob=0.0, gain_std=0.0, acc_noise_std=0.0,
                             gyro_noise_std=0.0)
    y = augment_imu(x, np.random.default_rng(3), only_rot)
    assert np.allclose(np.linalg.norm(y[:, :3], axis=1), np.linalg.norm(x[:, :3], axis=1))
    assert np.allclose(np.linalg.norm(y[:, 3:], axis=1), np.linalg.norm(x[:, 3:], axis=1))
    # the same rotation acts on both sensors: the angle between a and w is preserved
    cos = np.sum(x[:, :3] * x[:, 3:], axis=1)
    assert np.allclose(np.sum(y[:, :3] * y[:, 3:], axis=1), cos)
    only_mirror = only_rot.model_copy(update={"rotate": False, "mirror_prob": 1.0})
    m = augment_imu(x, np.random.default_rng(3), only_mirror)
    # right wrist of the mirrored motion: (ax, -ay, az) and (-gx, gy, -gz)
    assert np.allclose(m, x * [1, -1, 1, -1, 1, -1])
    assert np.allclose(MIRROR, np.diag([1.0, -1.0, 1.0]))
    noisy = only_rot.model_copy(update={"rotate": False, "acc_noise_std": 0.05,
                                        "gyro_noise_std": 0.01, "gain_std": 0.03})
    d = augment_imu(x, np.random.default_rng(4), noisy) - x
    assert 0.0 < np.std(d[:, 3:]) < np.std(d[:, :3])  # gyro noise and gain smaller, as set
    assert np.max(np.abs(d[:, :3] / x[:, :3].std())) < 0.3  # "small"


def test_augmentation_is_deterministic_per_clip_and_epoch() -> None:
    sample, _ = _device_recording()
    w = ClipWindower(SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                     augment=AugmentConfig())
    a, b, c = w(sample, 1), w(sample, 1), w(sample, 2)
    assert [i.start_s for i in a] == [i.start_s for i in b]
    assert all(np.array_equal(x.imu, y.imu) for x, y in zip(a, b, strict=True))
    # another epoch: another phase, rotation and noise
    assert not (len(a) == len(c) and all(np.array_equal(x.imu, y.imu)
                                         for x, y in zip(a, c, strict=True)))
    assert {i.start_s for i in a} != {i.start_s for i in c}


def test_training_streams_cover_both_gravity_conventions_and_low_rates() -> None:
    mix = stream_mix(tiny_corpus(), "train")
    # two wrists, a waist, a pocket and an upper arm, each its own device, per clip
    assert mix["streams"] == 25
    assert 0.0 < mix["gravity_removed"] < 1.0
    assert mix["low_rate"] > 0.0 and min(mix["rates_hz"]) <= 25.0 < max(mix["rates_hz"])
    # one stream per clip per epoch, drawn anew each epoch: every placement gets used
    sample = next(s for s in CorpusReader(tiny_corpus(), "train"))
    w = ClipWindower(SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                     augment=AugmentConfig())
    picked = {w(sample, e)[0].location for e in range(30)}
    assert {"left_wrist", "right_wrist"} <= picked
    assert {loc.split("_", 1)[1] for loc in picked} == {"wrist", "waist", "pocket", "upper_arm"}


@pytest.mark.parametrize("max_deg", [10.0, 30.0, 90.0])
def test_a_limited_rotation_stays_within_its_angle_and_uses_the_same_draws(
        max_deg: float) -> None:
    angles = []
    for seed in range(300):
        r = random_rotation(np.random.default_rng(seed), max_deg)
        assert np.allclose(r @ r.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(r), 1)
        angles.append(np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1))))
        full = random_rotation(np.random.default_rng(seed))
        full_angle = np.degrees(np.arccos(np.clip((np.trace(full) - 1) / 2, -1, 1)))
        # the same draw, its angle scaled: the limited one is the full one, shortened
        assert angles[-1] == pytest.approx(full_angle * max_deg / 180.0, abs=1e-6)
    assert max(angles) <= max_deg + 1e-9
    assert max(angles) > 0.8 * max_deg  # and it does use the range
    # a 30° limit keeps a standing belt phone's gravity within 30° of where it was
    cfg = AugmentConfig(rotate_max_deg=max_deg, mirror_prob=0.0, gain_std=0.0,
                        acc_noise_std=0.0, gyro_noise_std=0.0)
    x = np.tile([0.0, 9.81, 0.0, 0.0, 0.0, 0.0], (10, 1))
    for seed in range(50):
        y = augment_imu(x, np.random.default_rng(seed), cfg)
        tilt = np.degrees(np.arccos(np.clip(y[0, 1] / 9.81, -1, 1)))
        assert tilt <= max_deg + 1e-6


def test_activity_positives_give_every_text_of_an_activity_one_id() -> None:
    sample, _ = _device_recording()
    texts = sorted({t for e in sample.timeline for t in e.texts})
    assert len(texts) > 1
    index = {t: i for i, t in enumerate(texts)}
    ids = np.arange(len(texts), dtype=np.int64) + 1000
    kw: dict[str, object] = {"seed": 0, "augment": AugmentConfig(enabled=False)}
    by_text = ClipWindower(SPEC, ("imu", "text"), index, ids, **kw)  # type: ignore[arg-type]
    by_act = ClipWindower(SPEC, ("imu", "text"), index, ids, positives="activity",
                          **kw)  # type: ignore[arg-type]
    a, b = by_text(sample, 0), by_act(sample, 0)
    assert [i.text for i in a] == [i.text for i in b]  # the same texts are drawn
    assert all(i.text_id == ids[i.text] for i in a)
    per_activity: dict[str, set[int]] = {}
    for it in b:
        per_activity.setdefault(it.activity, set()).add(it.text_id)
    assert all(len(v) == 1 for v in per_activity.values()), per_activity
    if len(per_activity) > 1:  # different activities, different ids
        assert len(set.union(*per_activity.values())) == len(per_activity)
    with pytest.raises(ValueError, match="positives"):
        ClipWindower(SPEC, ("imu",), {}, ids, positives="clip", **kw)  # type: ignore[arg-type]


def test_the_placement_input_names_the_streams_placement_and_changes_nothing_else() -> None:
    sample, raw = _device_recording()
    waist = dataclasses.replace(raw, location="right_waist")
    clip = dataclasses.replace(sample, imu={"right_waist": waist})
    kinds = ("wrist", "waist", "pocket", "upper_arm")
    base = ClipWindower(SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                        augment=AugmentConfig())
    told = ClipWindower(SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                        augment=AugmentConfig(), placements=kinds)
    a, b = base(clip, 3), told(clip, 3)
    assert {i.placement for i in a} == {0}
    assert {i.placement for i in b} == {1 + kinds.index("waist")}
    # the placement has its own random numbers: the windows themselves are unchanged
    assert all(np.array_equal(x.imu, y.imu) for x, y in zip(a, b, strict=True))
    # a withheld placement reads "not said" in some epochs and never changes within one
    half = ClipWindower(SPEC, ("imu",), {}, np.zeros(0, np.int64), seed=0,
                        augment=AugmentConfig(), placements=kinds, placement_dropout=0.5)
    ids = [half.placement_id(clip, "right_waist", e) for e in range(40)]
    assert set(ids) == {0, 2} and 8 < ids.count(0) < 32
    assert half.placement_id(clip, "left_wrist", 1) in (0, 1)
    assert told.placement_id(clip, "chest", 1) == 0  # a placement it does not know
    batch = collate(b)
    assert batch["placement"].tolist() == [2] * len(b)
