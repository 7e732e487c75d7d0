"""Ego-Exo4D takes, EgoPose body JSON, atomic descriptions, expert commentary and Aria IMU
CSVs (written here in the documented layouts) -> samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aura_sdk import ConfigError
from aura_training.corpus import CorpusError, iter_windows, read_shard, write_shard
from aura_training.loaders import (
    EGOEXO_BODY_JOINTS,
    load_egoexo4d,
    read_aria_imu_csv,
    read_body_pose,
)

UID_A = "3c489f86-8896-4c86-8a5a-929999799d36"
UID_B = "0021a226-05b9-4ca4-9e2a-cc4fae3357f3"
UID_C = "ed3ec638-8363-4e1d-9851-c7936cbfad8c"


def joint_pos(t: float, j: int) -> list[float]:
    """Ground-truth track: each joint moves linearly in time (z up)."""
    return [0.1 * j + 0.2 * t, -0.05 * j, 0.1 * (17 - j) + 0.01 * t]


def _take(uid: str, name: str, scenario: str, task: str, duration: float,
          start: float | None, end: float | None) -> dict:
    return {"root_dir": f"takes/{name}", "take_name": name, "take_uid": uid,
            "participant_uid": 657, "is_dropped": False, "objects": [], "task_id": 4001,
            "task_name": task, "parent_task_id": 4000, "parent_task_name": scenario,
            "take_idx": 1, "duration_sec": duration, "best_exo": "cam04",
            "task_start_sec": start, "task_end_sec": end, "is_narrated": False,
            "physical_setting_uid": 97, "university_name": "cmu",
            "frame_aligned_videos": {}, "capture": {}}


def write_egoexo(root: Path, up: str = "z") -> None:
    ann = root / "annotations"
    (ann / "ego_pose/train/body/annotation").mkdir(parents=True)
    takes = [_take(UID_A, "cmu_bike01_2", "Bike Repair", "Remove a Wheel", 8.0, 0.5, 7.5),
             _take(UID_B, "unc_basketball_03-30-23_02_34", "Basketball", "Reverse Layup",
                   3.0, None, None),
             _take(UID_C, "no_data_take", "Cooking", "Omelet", 5.0, 0.0, 5.0)]
    (root / "takes.json").write_text(json.dumps(takes))
    # Body pose for take A at 10 of the 30 fps frames, with a 2 s hole (4-6 s) and the
    # left wrist missing at t = 1.0 s.
    pose = {}
    for frame in range(0, 240, 3):
        t = frame / 30.0
        if 4.0 < t < 6.0:
            continue
        joints = {}
        for j, name in enumerate(EGOEXO_BODY_JOINTS):
            if name == "left-wrist" and frame == 30:
                continue
            x, y, z = joint_pos(t, j)
            if up == "y":
                x, y, z = x, z, -y
            joints[name] = {"x": x, "y": y, "z": z, "num_views_for_3d": 3}
        pose[str(frame)] = [{
            "metadata": {"take_uid": UID_A, "take_name": "cmu_bike01_2", "frame_number": frame},
            "annotation2D": {"cam01": {"nose": {"x": 100.0, "y": 50.0, "placement": "auto"}}},
            "annotation3D": joints}]
    (ann / f"ego_pose/train/body/annotation/{UID_A}.json").write_text(json.dumps(pose))
    desc = lambda text, t, who: {  # noqa: E731
        "text": text, "timestamp": t, "narration_subject": who, "ego_visible": "0",
        "best_exo": {"raw_cam_id": "1", "cam_id": "cam01"}, "unsure": "0"}
    atomic = {"annotations": {UID_A: [
        {"annotation_uid": "a1", "annotator_id": "1", "rejected": False, "reject_reason": None,
         "descriptions": [desc("C moves his right hand.", 3.9, "C"),
                          desc("The Man X walks towards C.", 0.7, "O"),
                          desc("C touches the screw of the hub with his right hand.", 1.2,
                               "C")]},
        {"annotation_uid": "a2", "annotator_id": "2", "rejected": True,
         "reject_reason": "bad", "descriptions": [desc("C does nothing.", 2.0, "C")]},
    ]}}
    (ann / "atomic_descriptions_train.json").write_text(json.dumps(atomic))
    expert = {"annotations": {UID_A: [{
        "take_name": "cmu_bike01_2", "commentary": "c1",
        "commentary_data": [
            {"recording": "r1.webm", "text": " He loosens the axle first, good. ",
             "error": False, "error_desc": None, "video_time": 2.5},
            {"recording": "r2.webm", "error": True, "error_desc": "Traceback"},
            {"recording": "r3.webm", "text": "Overall a confident repair.", "error": False,
             "error_desc": None}]}]}}
    (ann / "expert_commentary_train.json").write_text(json.dumps(expert))
    imu = root / "imu"
    imu.mkdir()
    t0 = 123_456_789_000  # device clock, ns
    with (imu / "cmu_bike01_2_imu-right.csv").open("w") as f:
        f.write("timestamp_ns,accel_x,accel_y,accel_z,gyro_x,gyro_y,gyro_z\n")
        for i in range(8000):  # 1 kHz, 8 s
            f.write(f"{t0 + i * 1_000_000},0.5,-9.8,0.25,{0.001 * (i % 10)},0.2,-0.3\n")
    with (imu / "cmu_bike01_2_imu-left.csv").open("w") as f:
        f.write("capture_timestamp_ns,accel_msec2_x,accel_msec2_y,accel_msec2_z,"
                "gyro_radsec_x,gyro_radsec_y,gyro_radsec_z\n")
        for i in reversed(range(6400)):  # 800 Hz, rows out of order
            f.write(f"{t0 + i * 1_250_000},1,2,3,4,5,6\n")
    with (imu / "unc_basketball_03-30-23_02_34.csv").open("w") as f:
        f.write("tracking_timestamp_us,ax,ay,az,gx,gy,gz\n")
        for i in range(300):
            f.write(f"{i * 10_000},0,0,9.8,0,0,{'' if i == 7 else 0.1}\n")


def test_takes_become_samples(tmp_path: Path) -> None:
    write_egoexo(tmp_path)
    samples = {s.clip_id: s for s in load_egoexo4d(tmp_path)}
    assert set(samples) == {"cmu_bike01_2", "unc_basketball_03-30-23_02_34"}  # C has no data
    a = samples["cmu_bike01_2"]
    assert a.source == "egoexo4d" and a.split == "train" and a.subject == "egoexo4d-657"
    assert [(e.start_s, e.end_s, e.activity) for e in a.timeline] == [(0.5, 7.5, "bike repair")]
    assert a.timeline[0].params["task_name"] == "Remove a Wheel"
    assert all("bik" in t.lower() for t in a.texts)


def test_body_pose_is_resampled_to_10_fps(tmp_path: Path) -> None:
    write_egoexo(tmp_path)
    a = next(s for s in load_egoexo4d(tmp_path) if s.clip_id == "cmu_bike01_2")
    assert a.mocap is not None and a.mocap.shape == (80, 17, 3) and a.mocap_fps == 10.0
    grid = np.arange(80) / 10.0
    truth = np.array([[joint_pos(t, j) for j in range(17)] for t in grid])
    known = (grid <= 4.0) | (grid >= 6.0)
    np.testing.assert_allclose(a.mocap[known], truth[known], atol=1e-5)
    assert np.isnan(a.mocap[~known]).all()  # a 2 s hole is not invented
    np.testing.assert_allclose(a.mocap[10, 9], truth[10, 9], atol=1e-5)  # 1 frame missing


def test_y_up_annotations_are_turned_z_up(tmp_path: Path) -> None:
    write_egoexo(tmp_path, up="y")
    a = next(s for s in load_egoexo4d(tmp_path, up_axis="y") if s.mocap is not None)
    assert a.mocap is not None
    np.testing.assert_allclose(a.mocap[0, 3], joint_pos(0.0, 3), atol=1e-5)
    with pytest.raises(ConfigError, match="up_axis"):
        load_egoexo4d(tmp_path, up_axis="x")


def test_captions_keep_wearer_descriptions_and_commentary(tmp_path: Path) -> None:
    write_egoexo(tmp_path)
    a = next(s for s in load_egoexo4d(tmp_path) if s.clip_id == "cmu_bike01_2")
    assert [(c.t_s, c.kind) for c in a.captions] == [
        (0.0, "expert_commentary_take"), (1.2, "atomic_description"),
        (2.5, "expert_commentary"), (3.9, "atomic_description")]
    texts = [c.text for c in a.captions]
    assert "He loosens the axle first, good." in texts
    assert not any("Man X" in t or "does nothing" in t for t in texts)
    win = next(w for w in iter_windows(a, 2.0, 1.0) if w.start_s == 1.0)
    assert [(round(c.t_s, 6), c.kind) for c in win.captions] == [
        (0.2, "atomic_description"), (1.5, "expert_commentary")]


def test_aria_imu_csv_in_si_units(tmp_path: Path) -> None:
    write_egoexo(tmp_path)
    a = next(s for s in load_egoexo4d(tmp_path) if s.clip_id == "cmu_bike01_2")
    right, left = a.imu["head_right"], a.imu["head_left"]
    assert right.spec.sample_rate_hz == pytest.approx(1000.0)
    assert left.spec.sample_rate_hz == pytest.approx(800.0)
    assert right.spec.accel_unit == "m/s^2" and right.spec.gyro_unit == "rad/s"
    assert right.t[0] == 0.0 and right.t[-1] == pytest.approx(7.999)
    np.testing.assert_allclose(right.data[3], [0.5, -9.8, 0.25, 0.003, 0.2, -0.3], rtol=1e-6)
    assert np.all(np.diff(left.t) > 0)  # sorted
    np.testing.assert_allclose(left.data[0], [1, 2, 3, 4, 5, 6])
    b = next(s for s in load_egoexo4d(tmp_path) if s.clip_id.startswith("unc"))
    assert b.mocap is None and b.timeline[0].activity == "basketball"
    assert b.imu["head"].t.size == 299  # the row with a blank gyro value is dropped
    assert b.imu["head"].spec.sample_rate_hz == pytest.approx(100.0)


def test_bad_imu_csv(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("time,foo\n1,2\n")
    with pytest.raises(CorpusError, match="acc x"):
        read_aria_imu_csv(tmp_path / "x.csv")
    (tmp_path / "y.csv").write_text("when,ax,ay,az,gx,gy,gz\n1,2,3,4,5,6,7\n")
    with pytest.raises(CorpusError, match="timestamp"):
        read_aria_imu_csv(tmp_path / "y.csv")


def test_body_pose_reader(tmp_path: Path) -> None:
    write_egoexo(tmp_path)
    frames, kp = read_body_pose(
        tmp_path / f"annotations/ego_pose/train/body/annotation/{UID_A}.json")
    assert frames[0] == 0 and frames[1] == 3 and np.all(np.diff(frames) > 0)
    assert kp.shape == (frames.size, 17, 3)
    k = int(np.flatnonzero(frames == 30)[0])
    assert np.isnan(kp[k, 9]).all() and np.isfinite(kp[k, 10]).all()


def test_chunking_and_round_trip_through_the_corpus(tmp_path: Path) -> None:
    write_egoexo(tmp_path)
    parts = [s for s in load_egoexo4d(tmp_path, max_clip_s=3.0, take_uids=[UID_A])]
    assert [p.clip_id for p in parts] == ["cmu_bike01_2#000", "cmu_bike01_2#001",
                                          "cmu_bike01_2#002"]
    assert [p.duration_s for p in parts] == pytest.approx([3.0, 3.0, 2.0])
    assert [p.mocap.shape[0] for p in parts if p.mocap is not None] == [30, 30, 20]
    assert [(e.start_s, e.end_s) for e in parts[0].timeline] == [(0.5, 3.0)]
    write_shard(tmp_path / "e.npz", parts)
    back = read_shard(tmp_path / "e.npz")
    for a, b in zip(parts, back, strict=True):
        np.testing.assert_array_equal(a.mocap, b.mocap)  # NaN holes survive
        np.testing.assert_array_equal(a.imu["head_right"].t, b.imu["head_right"].t)
        assert a.captions == b.captions and a.timeline == b.timeline
