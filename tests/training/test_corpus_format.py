"""Shards and manifests: exact round trip, reproducible bytes, damage and version checks."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from aura_sdk import ConfigError, SensorSpec
from aura_training.corpus import (
    Caption,
    CorpusError,
    CorpusNotFoundError,
    CorpusReader,
    CorpusWriter,
    ImuStream,
    Sample,
    TimelineEntry,
    load_manifest,
    read_shard,
    write_shard,
)


def make_sample(i: int, split: str = "train", seconds: float = 6.0, video: bool = True,
                rate: float = 50.0) -> Sample:
    rng = np.random.default_rng(i)
    n = int(seconds * rate)
    t = np.arange(n) / rate + rng.normal(0, 1e-4, n)
    imu = {
        "left_wrist": ImuStream(t=t, data=rng.normal(size=(n, 6)).astype(np.float32),
                                spec=SensorSpec(sample_rate_hz=rate), location="left_wrist"),
        "right_wrist": ImuStream(t=t[: n - 3], data=rng.normal(size=(n - 3, 6)).astype(
            np.float32), spec=SensorSpec(sample_rate_hz=rate, gravity_removed=True),
                                 location="right_wrist"),
    }
    frames = int(seconds * 10)
    half = seconds / 2
    return Sample(
        clip_id=f"clip{i:04d}", source="test", split=split, subject=f"s{i % 3}",
        duration_s=seconds, imu=imu,
        mocap=rng.normal(size=(frames, 17, 3)).astype(np.float32),
        video=rng.integers(0, 256, (frames, 64, 64), dtype=np.uint8) if video else None,
        timeline=(TimelineEntry(0.0, half, "walking", ("a person walks.",), {"speed_mps": 1.2}),
                  TimelineEntry(half, seconds, "sitting", ("someone sits.",), {})),
        texts=("a person walks, then sits.",),
        captions=(Caption(1.5, "C walks.", "description"),),
        params={"camera": {"height_m": 1.5}, "video_noise_sigma": 2.0, "tags": [1, 2]},
        features={"emb": rng.normal(size=(1, 8)).astype(np.float32)} if i % 2 else {},
    )


def assert_same(a: Sample, b: Sample) -> None:
    assert (a.clip_id, a.split, a.subject, a.source) == (b.clip_id, b.split, b.subject, b.source)
    assert a.duration_s == b.duration_s
    assert a.imu.keys() == b.imu.keys()
    for k in a.imu:
        np.testing.assert_array_equal(a.imu[k].t, b.imu[k].t)
        np.testing.assert_array_equal(a.imu[k].data, b.imu[k].data)
        assert a.imu[k].spec == b.imu[k].spec
    np.testing.assert_array_equal(a.mocap, b.mocap)
    if a.video is None:
        assert b.video is None
    else:
        np.testing.assert_array_equal(a.video, b.video)
    assert a.timeline == b.timeline and a.texts == b.texts and a.captions == b.captions
    assert json.dumps(a.params, sort_keys=True) == json.dumps(b.params, sort_keys=True)
    assert a.features.keys() == b.features.keys()
    for k in a.features:
        np.testing.assert_array_equal(a.features[k], b.features[k])


def test_shard_round_trip_is_exact(tmp_path: Path) -> None:
    samples = [make_sample(i) for i in range(5)]
    stats = write_shard(tmp_path / "s.npz", samples)
    back = read_shard(tmp_path / "s.npz", features=["emb"])
    assert len(back) == 5
    for a, b in zip(samples, back, strict=True):
        assert_same(a, b)
    assert stats.clips == 5 and stats.duration_s == pytest.approx(30.0)
    assert stats.activities == {"walking": pytest.approx(15.0), "sitting": pytest.approx(15.0)}
    # No pickle: plain numpy can open it with pickling refused.
    with np.load(tmp_path / "s.npz", allow_pickle=False) as z:
        assert set(z.files) == {"meta", "imu_t", "imu_x", "mocap", "video", "feat.emb"}
        assert z["imu_x"].dtype == np.float32 and z["imu_x"].shape[1] == 6


def test_same_clips_same_bytes(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a.npz", [make_sample(i) for i in range(3)])
    b = write_shard(tmp_path / "b.npz", [make_sample(i) for i in range(3)])
    assert a.sha256 == b.sha256
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_reading_a_subset_of_modalities_skips_the_rest(tmp_path: Path) -> None:
    write_shard(tmp_path / "s.npz", [make_sample(0)])
    (s,) = read_shard(tmp_path / "s.npz", modalities=["imu"])
    assert s.video is None and s.mocap is None and s.texts == ()
    assert s.timeline[0].activity == "walking"  # labels always come along
    assert set(s.imu) == {"left_wrist", "right_wrist"}
    with pytest.raises(CorpusError, match="unknown modalities"):
        read_shard(tmp_path / "s.npz", modalities=["audio"])


def test_clips_without_video_mix_with_clips_with(tmp_path: Path) -> None:
    samples = [make_sample(0, video=False), make_sample(1), make_sample(2, video=False)]
    write_shard(tmp_path / "s.npz", samples)
    back = read_shard(tmp_path / "s.npz")
    assert [b.video is None for b in back] == [True, False, True]
    np.testing.assert_array_equal(back[1].video, samples[1].video)


def test_damaged_or_foreign_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(CorpusError, match="cannot read shard"):
        read_shard(tmp_path / "junk.npz")
    with zipfile.ZipFile(tmp_path / "old.npz", "w") as zf, zf.open("meta.npy", "w") as f:
        blob = json.dumps({"format": "aura-corpus-shard", "version": 99}).encode()
        np.lib.format.write_array(f, np.frombuffer(blob, dtype=np.uint8))
    with pytest.raises(CorpusError, match="regenerate"):
        read_shard(tmp_path / "old.npz")


def test_writer_groups_splits_and_indexes_everything(tmp_path: Path) -> None:
    root = tmp_path / "c"
    with CorpusWriter(root, source="test", generator={"seed": 3}, shard_seconds=12.0,
                      held_out_activities=["sitting"]) as w:
        for i in range(7):
            w.add(make_sample(i, split=("train", "val", "test")[i % 3]))
    m = load_manifest(root)
    assert [s.split for s in m.shards] == sorted(
        [s.split for s in m.shards], key=("train", "val", "test").index)
    assert m.splits["train"].clips == 3 and m.splits["val"].clips == 2
    assert m.splits["test"].clips == 2
    assert m.duration_s == pytest.approx(42.0)
    assert m.bytes == sum((root / s.path).stat().st_size for s in m.shards)
    assert m.modalities == ["imu", "mocap", "video", "text"]
    assert m.activities == {"sitting": pytest.approx(21.0), "walking": pytest.approx(21.0)}
    assert all(c.zero_shot for c in m.clips)  # every clip has a held-out activity here
    by_id = {c.clip_id: c for c in m.clips}
    for shard_index, shard in enumerate(m.shards):
        for s in read_shard(root / shard.path):
            assert by_id[s.clip_id].shard == shard_index and by_id[s.clip_id].split == s.split
    assert sorted(by_id) == [f"clip{i:04d}" for i in range(7)]


def test_writer_refuses_to_overwrite(tmp_path: Path) -> None:
    with CorpusWriter(tmp_path, source="test") as w:
        w.add(make_sample(0))
    with pytest.raises(ConfigError, match="overwrite"):
        CorpusWriter(tmp_path, source="test")
    with CorpusWriter(tmp_path, source="test", overwrite=True) as w:
        w.add(make_sample(1))
    assert [c.clip_id for c in load_manifest(tmp_path).clips] == ["clip0001"]


def test_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError, match="aura data synth"):
        CorpusReader(tmp_path / "nothing")
    with CorpusWriter(tmp_path, source="test") as w:
        w.add(make_sample(0))
    with pytest.raises(CorpusError, match="unknown split"):
        CorpusReader(tmp_path, split="dev")
    shard = tmp_path / load_manifest(tmp_path).shards[0].path
    data = bytearray(shard.read_bytes())
    data[-30] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(CorpusError, match="sha256"):
        list(CorpusReader(tmp_path, verify=True))


def test_video_noise_is_applied_at_read_time_deterministically(tmp_path: Path) -> None:
    with CorpusWriter(tmp_path, source="test") as w:
        w.add(make_sample(1))
    clean = next(iter(CorpusReader(tmp_path)))
    a = next(iter(CorpusReader(tmp_path, video_noise=True)))
    b = next(iter(CorpusReader(tmp_path, video_noise=True)))
    assert clean.video is not None and a.video is not None and b.video is not None
    np.testing.assert_array_equal(a.video, b.video)
    diff = a.video.astype(float) - clean.video
    inner = (clean.video > 10) & (clean.video < 245)
    assert 1.5 < diff[inner].std() < 2.5  # sigma 2 as drawn at synthesis


def test_precomputed_features_are_added_in_place(tmp_path: Path) -> None:
    from aura_training.corpus import add_features, member_sizes

    with CorpusWriter(tmp_path, source="test", shard_seconds=12.0) as w:
        for i in range(4):
            w.add(make_sample(i, video=False))
    add_features(tmp_path, "dur", lambda s: np.full((1, 2), s.duration_s, dtype=np.float32))
    m = load_manifest(tmp_path)
    assert m.features == ["dur", "emb"]
    back = list(CorpusReader(tmp_path, features=["dur", "emb"], verify=True))
    assert [b.features["dur"].tolist() for b in back] == [[[6.0, 6.0]]] * 4
    assert [("emb" in b.features) for b in back] == [False, True, False, True]  # kept
    sizes = member_sizes(tmp_path / m.shards[0].path)
    assert set(sizes) == {"meta", "imu", "mocap", "video", "feat.dur", "feat.emb"}
    assert sizes["imu"] > sizes["feat.dur"]
    with pytest.raises(ConfigError, match="letters"):
        add_features(tmp_path, "bad/name", lambda s: np.zeros(1))
