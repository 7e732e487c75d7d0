"""PAMAP2 .dat files (written here in the data set's published column layout) -> samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aura_sdk import ConfigError
from aura_training.corpus import CorpusError, read_shard, write_shard
from aura_training.loaders import PAMAP2_ACTIVITIES, load_pamap2, read_pamap2_dat

G = 9.80665
# (activity id, rows) in file order; 0 = transient.
_PLAN = [(0, 50), (1, 300), (0, 20), (4, 400), (24, 150), (0, 30)]


def _imu_block(n: int, t: np.ndarray, which: int, walking: np.ndarray) -> np.ndarray:
    """17 columns: temp, acc16 xyz, acc6 xyz, gyro xyz, mag xyz, 4 orientation."""
    b = np.zeros((n, 17))
    b[:, 0] = 31.5 + which
    b[:, 1:4] = [0.3 * which, -0.2, G]
    b[:, 3] += 2.0 * np.sin(2 * np.pi * 1.8 * t) * walking
    b[:, 4:7] = b[:, 1:4] + 0.01  # the +-6 g sensor reads a little differently
    b[:, 7:10] = [0.1 * which, -0.5, 1.25]
    b[:, 10:13] = [20.0, -5.0, 40.0]
    b[:, 13:17] = [1.0, 0.0, 0.0, 0.0]
    return b


def write_dat(path: Path) -> np.ndarray:
    labels = np.concatenate([np.full(n, a) for a, n in _PLAN])
    n = labels.size
    t = 5.64 + np.arange(n) / 100.0
    rows = np.zeros((n, 54))
    rows[:, 0] = t
    rows[:, 1] = labels
    rows[:, 2] = np.nan
    rows[::11, 2] = 100 + np.arange(0, n, 11) % 7
    walking = (labels == 4).astype(float)
    for k, first in enumerate((3, 20, 37)):
        rows[:, first : first + 17] = _imu_block(n, t, k, walking)
    rows[100:105, 4:6] = np.nan  # the hand IMU drops 5 packets while lying
    rows[600, 44] = np.nan  # one lost ankle gyro value while walking
    with path.open("w") as f:
        for r in rows:
            f.write(" ".join("NaN" if np.isnan(v) else f"{v:.6g}" for v in r) + "\n")
    return rows


def test_bouts_become_samples_in_si_units(tmp_path: Path) -> None:
    rows = write_dat(tmp_path / "subject105.dat")
    samples = load_pamap2(tmp_path / "subject105.dat")
    assert [s.activity for s in samples] == ["lying", "walking", "rope jumping"]
    assert [s.duration_s for s in samples] == pytest.approx([3.0, 4.0, 1.5])
    lying, walking, _ = samples
    assert lying.subject == "pamap2-105" and lying.source == "pamap2"
    assert set(lying.imu) == {"dominant_wrist", "chest", "ankle"}
    hand = lying.imu["dominant_wrist"]
    assert hand.spec.sample_rate_hz == 100.0 and hand.spec.accel_unit == "m/s^2"
    assert hand.spec.gyro_unit == "rad/s" and not hand.spec.gravity_removed
    # 5 dropped packets leave a gap in the hand's timestamps, not invented samples.
    assert hand.t.size == 295 and lying.imu["chest"].t.size == 300
    assert np.diff(hand.t).max() == pytest.approx(0.06)
    assert hand.t[0] == pytest.approx(0.0)
    np.testing.assert_allclose(hand.data[:, 2].mean(), G, rtol=1e-5)  # at rest: +1 g up
    np.testing.assert_allclose(hand.data[0, 3:], [0.0, -0.5, 1.25], rtol=1e-6)
    np.testing.assert_allclose(lying.imu["ankle"].data[0, :3], [0.6, -0.2, G], rtol=1e-6)
    assert walking.imu["ankle"].t.size == 399
    # The walking bout's acceleration oscillates at 1.8 Hz, as written.
    acc_z = walking.imu["chest"].data[:, 2]
    spectrum = np.abs(np.fft.rfft(acc_z - acc_z.mean()))
    assert np.fft.rfftfreq(acc_z.size, 0.01)[spectrum.argmax()] == pytest.approx(1.75, abs=0.25)
    hr = rows[50:350, 2]
    assert lying.params["heart_rate_bpm"] == pytest.approx(np.nanmean(hr))
    assert lying.params["activity_id"] == 1
    assert all("lying" in t.lower() for t in lying.texts) and len(lying.texts) == 4


def test_options(tmp_path: Path) -> None:
    write_dat(tmp_path / "subject101.dat")
    six = load_pamap2(tmp_path / "subject101.dat", use_6g=True, imus=["hand"])
    assert set(six[0].imu) == {"dominant_wrist"}
    np.testing.assert_allclose(six[0].imu["dominant_wrist"].data[0, :3], [0.01, -0.19, G + 0.01],
                               rtol=1e-5)
    cut = load_pamap2(tmp_path / "subject101.dat", max_clip_s=2.0, min_clip_s=1.6)
    assert [(s.activity, round(s.duration_s, 2)) for s in cut] == [
        ("lying", 2.0), ("walking", 2.0), ("walking", 2.0)]  # 1 s rests are dropped
    assert len({s.clip_id for s in cut}) == 3
    with pytest.raises(ConfigError, match="wrist"):
        load_pamap2(tmp_path / "subject101.dat", imus=["wrist"])


def test_raw_columns_and_names(tmp_path: Path) -> None:
    write_dat(tmp_path / "subject102.dat")
    rec = read_pamap2_dat(tmp_path / "subject102.dat")
    assert rec.subject == 102 and rec.t.size == sum(n for _, n in _PLAN)
    np.testing.assert_allclose(rec.temperature["ankle"][:3], 33.5)
    np.testing.assert_allclose(rec.mag["chest"][0], [20.0, -5.0, 40.0])
    assert PAMAP2_ACTIVITIES[12] == "ascending stairs" and PAMAP2_ACTIVITIES[24] == "rope jumping"
    assert 0 not in PAMAP2_ACTIVITIES and len(PAMAP2_ACTIVITIES) == 18


def test_not_pamap2(tmp_path: Path) -> None:
    (tmp_path / "x.dat").write_text("1 2 3\n4 5 6\n")
    with pytest.raises(CorpusError, match="54 columns"):
        read_pamap2_dat(tmp_path / "x.dat")


def test_samples_store_in_the_corpus(tmp_path: Path) -> None:
    write_dat(tmp_path / "subject103.dat")
    samples = load_pamap2(tmp_path / "subject103.dat", split="test")
    write_shard(tmp_path / "p.npz", samples)
    back = read_shard(tmp_path / "p.npz")
    assert [b.activity for b in back] == ["lying", "walking", "rope jumping"]
    for a, b in zip(samples, back, strict=True):
        for loc in a.imu:
            np.testing.assert_array_equal(a.imu[loc].data, b.imu[loc].data)
            assert a.imu[loc].spec == b.imu[loc].spec
        assert b.split == "test" and b.mocap is None and b.video is None
