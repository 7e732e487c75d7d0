"""The synthetic corpus end to end: plan, splits, determinism over workers, size, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aura_training.cli_data import main
from aura_training.corpus import CorpusReader, iter_windows, load_manifest
from aura_training.corpus._synth import SynthConfig, plan_sessions, synthesize_corpus

_TEST_MARKERS = ("appears to be", "we see", "in this scene", "is busy", "the camera shows",
                 "was filmed", " before ", "afterwards")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "c"
    cfg = SynthConfig(minutes=3.0, seed=11, shard_seconds=40.0, subjects=6,
                      val_subjects=0.2, test_subjects=0.3)
    synthesize_corpus(root, cfg, workers=1)
    return root


def test_plan_is_seeded_and_splits_hold_out_subjects_and_activities() -> None:
    cfg = SynthConfig(minutes=30.0, seed=5)
    plan = plan_sessions(cfg)
    assert plan == plan_sessions(cfg)
    assert plan != plan_sessions(cfg.model_copy(update={"seed": 6}))
    assert sum(p.duration_s for p in plan) == pytest.approx(1800.0)
    subjects = {s: {p.subject_id for p in plan if p.split == s} for s in ("train", "val", "test")}
    assert all(subjects.values())
    assert not subjects["train"] & subjects["val"] and not subjects["train"] & subjects["test"]
    assert not subjects["val"] & subjects["test"]
    held = set(cfg.held_out_activities)
    for p in plan:
        if p.split != "test":
            assert not held & set(p.activities)
    assert any(set(p.activities) == held for p in plan if p.split == "test")
    for split, share in (("train", 0.75), ("val", 0.1), ("test", 0.15)):
        seconds = sum(p.duration_s for p in plan if p.split == split)
        assert abs(seconds - share * 1800.0) <= cfg.session_s[1], split
    shards = [p.shard for p in plan]
    assert shards == sorted(shards) and sorted(set(shards)) == list(range(max(shards) + 1))
    for shard in set(shards):
        assert len({p.split for p in plan if p.shard == shard}) == 1


def test_unknown_held_out_activity_is_refused() -> None:
    from aura_sdk import ConfigError

    with pytest.raises(ConfigError, match="not generated"):
        plan_sessions(SynthConfig(minutes=1.0, seed=0, held_out_activities=("flying",)))


def test_clips_carry_four_aligned_modalities(corpus: Path) -> None:
    m = load_manifest(corpus)
    assert m.duration_s == pytest.approx(180.0, abs=1e-6)
    assert m.modalities == ["imu", "mocap", "video", "text"]
    for s in CorpusReader(corpus):
        n = int(np.floor(s.duration_s * 10 + 1e-9))
        assert s.mocap is not None and s.mocap.shape == (n, 17, 3)
        assert s.video is not None and s.video.shape == (n, 64, 64) and s.video.dtype == np.uint8
        # both wrists, and a waist, a pocket and an upper-arm device on a side drawn per clip
        assert {"left_wrist", "right_wrist"} <= set(s.imu) and len(s.imu) == 5
        assert sorted(loc.split("_", 1)[1] for loc in s.imu) == [
            "pocket", "upper_arm", "waist", "wrist", "wrist"]
        for loc, st in s.imu.items():
            assert st.location == loc
            rec = s.params["imu"][loc]
            assert f"{rec['side']}_{rec['placement']}" == loc
            assert rec["device"] in ("watch", "phone", "board") and rec["fit"] in (
                "tight", "loose")
        for st in s.imu.values():
            assert 10.0 <= st.spec.sample_rate_hz <= 200.0
            assert st.spec.accel_unit == "m/s^2" and st.spec.gyro_unit == "rad/s"
            assert st.t.min() >= 0 and st.t.max() < s.duration_s
            # Roughly the stated rate (drops and the spline margins aside).
            assert st.t.size > 0.8 * s.duration_s * st.spec.sample_rate_hz - 2
        assert s.timeline and all(0 <= e.start_s < e.end_s <= s.duration_s for e in s.timeline)
        assert s.texts and all(e.texts for e in s.timeline)
        assert "camera" in s.params and "subject" in s.params


def test_texts_are_grounded_and_held_out_frames_stay_out_of_train(corpus: Path) -> None:
    hands = 0
    for s in CorpusReader(corpus):
        words = [t.lower() for e in s.timeline for t in e.texts] + [t.lower() for t in s.texts]
        held_out_frames = any(m in w for w in words for m in _TEST_MARKERS)
        if s.split == "train":
            assert not held_out_frames, s.clip_id
        for e in s.timeline:
            hand = e.params["hand"]
            if hand in ("left", "right"):
                other = "right" if hand == "left" else "left"
                assert f"{hand} hand" in e.texts[0].lower()
                assert not any(other in t.lower() for t in e.texts)
                hands += 1
    assert hands > 0


def test_splits_in_the_manifest(corpus: Path) -> None:
    m = load_manifest(corpus)
    subjects = {k: set(v.subjects) for k, v in m.splits.items()}
    names = sorted(subjects)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not subjects[a] & subjects[b]
    held = set(m.held_out_activities)
    for split, info in m.splits.items():
        if split != "test":
            assert not held & set(info.activities)
    assert all(c.zero_shot == bool(held & set(c.activities)) for c in m.clips)
    assert m.text_templates == {"train": "train", "val": "test", "test": "test"}


def test_windows_of_a_synthetic_clip(corpus: Path) -> None:
    wins = [w for s in CorpusReader(corpus) for w in iter_windows(s, 5.0, 2.5)]
    assert len(wins) > 10
    for w in wins:
        assert w.activity and w.texts
        assert w.mocap is not None and w.mocap.shape == (50, 17, 3)
        assert w.video is not None and w.video.shape == (50, 64, 64)


def test_same_seed_same_corpus_whatever_the_workers(tmp_path: Path) -> None:
    cfg = SynthConfig(minutes=1.0, seed=3, shard_seconds=20.0, session_s=(10.0, 20.0))
    one = synthesize_corpus(tmp_path / "one", cfg, workers=1)
    two = synthesize_corpus(tmp_path / "two", cfg, workers=2)
    assert len(one.shards) >= 3
    assert [s.sha256 for s in one.shards] == [s.sha256 for s in two.shards]
    assert (tmp_path / "one/manifest.json").read_bytes() == (
        tmp_path / "two/manifest.json").read_bytes()
    other = synthesize_corpus(tmp_path / "other", cfg.model_copy(update={"seed": 4}))
    assert [s.sha256 for s in other.shards] != [s.sha256 for s in one.shards]


def test_size_per_hour_is_within_budget(corpus: Path) -> None:
    m = load_manifest(corpus)
    mb_per_hour = m.bytes / 1e6 / (m.duration_s / 3600.0)
    assert mb_per_hour <= 200.0, mb_per_hour
    print(f"corpus size: {mb_per_hour:.1f} MB per hour")


def test_cli_synth_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["synth", "--minutes", "0.5", "--out", str(out), "--seed", "2",
                 "--shard-minutes", "0.25", "--holdout", "rowing,jumping jacks"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["synth", "--minutes", "0.5", "--out", str(out), "--quiet"]) == 1
    assert "overwrite" in capsys.readouterr().err
    assert main(["info", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["hours"] == pytest.approx(30 / 3600)
    assert summary["held_out_activities"] == ["jumping jacks", "rowing"]
    assert summary["generator"]["seed"] == 2


def test_throughput_benchmark_runs_and_reports() -> None:
    from aura_bench._corpus import markdown, run_corpus_bench

    res = run_corpus_bench(minutes_per_rep=0.4, warmup=0, reps=1, seed=77)
    assert res["rows"][0]["hours"] == pytest.approx(0.4 / 60)
    assert res["hours_per_cpu_minute"]["p50"] > 0 and res["mb_per_hour"]["p50"] > 0
    shares = res["stage_share_of_wall"]
    assert set(shares) == {"motion", "imu", "mocap", "video", "text", "write"}
    assert 0.5 < sum(shares.values()) <= 1.01
    assert "hours of data per CPU-minute" in markdown(res)


def test_activity_weights_make_postures_common_and_are_checked() -> None:
    from aura_training.corpus._synth import DEFAULT_ACTIVITY_WEIGHTS
    from aura_training.synth import generate_session

    assert SynthConfig(minutes=1, seed=0).activity_weights == DEFAULT_ACTIVITY_WEIGHTS
    assert {"sitting", "standing", "lying down"} <= set(DEFAULT_ACTIVITY_WEIGHTS)

    def share(weights):
        n = hit = 0
        for seed in range(6):
            clip = generate_session(seed, 400.0, weights=weights, segment_s=(8.0, 12.0))
            n += len(clip.timeline)
            hit += sum(s.activity == "sitting" for s in clip.timeline)
        return hit / n

    assert share(None) < 0.08  # one of 57
    assert share({"sitting": 57.0}) > 0.3  # about half the draws not excluded as a repeat
    with pytest.raises(ValueError, match="unknown activities"):
        SynthConfig(minutes=1, seed=0, activity_weights={"flying": 2.0})
    with pytest.raises(ValueError, match="positive"):
        SynthConfig(minutes=1, seed=0, activity_weights={"sitting": 0.0})
