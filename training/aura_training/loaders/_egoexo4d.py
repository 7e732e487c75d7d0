"""Ego-Exo4D (Grauman et al., 2024): takes, 3D body pose, atomic descriptions, expert
commentary and Aria IMU, read into corpus samples.

Files, as documented at docs.ego-exo4d-data.org and laid out by the ``egoexo`` downloader
(``<root>`` is the download directory):

* ``takes.json``: a list of takes (``take_uid``, ``take_name``, ``participant_uid``,
  ``duration_sec``, ``task_name``, ``parent_task_name`` (the scenario),
  ``task_start_sec`` / ``task_end_sec`` (may be null), ...).
* ``annotations/ego_pose/<split>/body/annotation/<take_uid>.json``: ``{frame_number:
  [{"annotation3D": {joint: {"x", "y", "z", "num_views_for_3d"}}, "annotation2D": ...}]}``
  with the 17 COCO joints spelled with hyphens (``"left-wrist"``); frame numbers count the
  take's frame-aligned 30 fps videos; joints that could not be triangulated are absent.
* ``annotations/atomic_descriptions_<split>.json``: ``{"annotations": {take_uid:
  [{"rejected", "descriptions": [{"text", "timestamp", "narration_subject" ("C" is the
  camera wearer), ...}]}]}}``.
* ``annotations/expert_commentary_<split>.json``: ``{"annotations": {take_uid:
  [{"take_name", "commentary", "commentary_data": [{"text", "error", "video_time"?}]}]}}``
  (Whisper transcripts of the experts' spoken commentary).
* IMU: Aria streams live inside the take's VRS file; this loader reads them as CSV
  extracted with projectaria_tools (one row per sample: device timestamp, ``accel_msec2``
  xyz, ``gyro_radsec`` xyz), one file per stream named ``<take_name>_imu-right.csv`` /
  ``<take_name>_imu-left.csv`` (or ``<take_name>.csv``) in ``imu_dir``. The first sample
  of a take-trimmed VRS is the take's start.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aura_sdk import ConfigError, SensorSpec

from ..corpus import Caption, CorpusError, ImuStream, Sample, TimelineEntry, crop
from ..synth import COCO_KEYPOINTS
from ..text import Split, TextContext, describe

__all__ = [
    "EGOEXO_BODY_JOINTS",
    "EGOEXO_VIDEO_FPS",
    "load_egoexo4d",
    "read_aria_imu_csv",
    "read_atomic_descriptions",
    "read_body_pose",
    "read_expert_commentary",
    "read_takes",
    "resample_keypoints",
]

#: Body joint names of the EgoPose annotation JSON, in COCO order.
EGOEXO_BODY_JOINTS: tuple[str, ...] = tuple(n.replace("_", "-") for n in COCO_KEYPOINTS)
#: Frame rate of the frame-aligned take videos that body-pose frame numbers count.
EGOEXO_VIDEO_FPS = 30.0

_TIME_COLUMNS = {  # header -> seconds per unit
    "timestamp_ns": 1e-9, "capture_timestamp_ns": 1e-9, "device_timestamp_ns": 1e-9,
    "tracking_timestamp_us": 1e-6, "timestamp_us": 1e-6, "timestamp_ms": 1e-3,
    "canonical_timestamp_ms": 1e-3, "component_timestamp_ms": 1e-3, "timestamp_s": 1.0,
    "t": 1.0,
}  # fmt: skip
_AXIS_ALIASES = {
    "acc": ("accel_{}", "accl_{}", "acc_{}", "accel_msec2_{}", "a{}"),
    "gyro": ("gyro_{}", "gyro_radsec_{}", "gyr_{}", "g{}"),
}
_UP = {"z": np.eye(3), "y": np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]),
       "-y": np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])}


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read JSON: {exc}", path=path) from exc


def read_takes(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The take records of ``<root>/takes.json``.

    Raises:
        CorpusError: missing or not a list of takes.
    """
    path = Path(root) / "takes.json"
    takes = _json(path)
    if not isinstance(takes, list) or not all(isinstance(t, dict) and "take_uid" in t
                                               for t in takes):
        raise CorpusError("takes.json must be a list of take objects with a take_uid",
                          path=path)
    return takes


def read_body_pose(path: str | os.PathLike[str]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Frame numbers and 3D body keypoints of one take's EgoPose body annotation.

    Returns:
        ``(frames, keypoints)``: (k,) sorted frame numbers and (k, 17, 3) positions in
        metres, world frame, COCO order; NaN for joints the frame lacks.

    Raises:
        CorpusError: the file is not an EgoPose annotation.
    """
    path = Path(path)
    data = _json(path)
    if not isinstance(data, dict):
        raise CorpusError("an EgoPose annotation is an object keyed by frame number", path=path)
    index = {name: i for i, name in enumerate(EGOEXO_BODY_JOINTS)}
    frames = sorted(data, key=int)
    out = np.full((len(frames), 17, 3), np.nan)
    for k, frame in enumerate(frames):
        entries = data[frame]
        ann = (entries[0] if isinstance(entries, list) and entries else {}).get(
            "annotation3D") or {}
        for name, p in ann.items():
            i = index.get(name.lower().replace("_", "-"))
            if i is not None and p is not None:
                out[k, i] = [p["x"], p["y"], p["z"]]
    return np.array([int(f) for f in frames], dtype=np.int64), out


def resample_keypoints(
    times: NDArray[np.floating], keypoints: NDArray[np.floating], grid: NDArray[np.floating],
    max_gap_s: float = 1.0,
) -> NDArray[np.float64]:
    """Linear interpolation of sparse keypoints onto a time grid, joint by joint.

    A grid time gets a value only if annotated times of that joint bracket it no more than
    ``max_gap_s`` apart (or it is within half a frame of one); elsewhere NaN: unknown pose
    is not invented.
    """
    out = np.full((grid.size, *keypoints.shape[1:]), np.nan)
    for j in range(keypoints.shape[1]):
        ok = np.isfinite(keypoints[:, j]).all(axis=1)
        tj = np.asarray(times, dtype=np.float64)[ok]
        if tj.size == 0:
            continue
        pj = keypoints[ok, j]
        nxt = np.clip(np.searchsorted(tj, grid), 0, tj.size - 1)
        prv = np.clip(nxt - 1, 0, tj.size - 1)
        nearest = np.minimum(np.abs(tj[nxt] - grid), np.abs(tj[prv] - grid))
        inside = (grid >= tj[0]) & (grid <= tj[-1]) & (tj[nxt] - tj[prv] <= max_gap_s)
        good = inside | (nearest <= 0.5 / EGOEXO_VIDEO_FPS)
        for c in range(3):
            out[good, j, c] = np.interp(grid[good], tj, pj[:, c])
    return out


def read_atomic_descriptions(path: str | os.PathLike[str],
                             wearer_only: bool = True) -> dict[str, list[Caption]]:
    """Atomic action descriptions per take uid, from accepted annotations.

    Args:
        path: an ``atomic_descriptions_<split>.json`` file.
        wearer_only: keep only descriptions of the camera wearer (subject ``"C"``), the
            person whose IMU the take holds.
    """
    path = Path(path)
    data = _json(path)
    out: dict[str, list[Caption]] = {}
    for uid, anns in (data.get("annotations") or {}).items():
        for ann in anns:
            if ann.get("rejected"):
                continue
            for d in ann.get("descriptions") or []:
                who = d.get("narration_subject", d.get("subject", "C"))
                if wearer_only and who != "C":
                    continue
                out.setdefault(uid, []).append(
                    Caption(float(d["timestamp"]), str(d["text"]), "atomic_description"))
    for caps in out.values():
        caps.sort(key=lambda c: c.t_s)
    return out


def read_expert_commentary(path: str | os.PathLike[str]) -> dict[str, list[Caption]]:
    """Transcribed expert commentary per take uid (failed transcriptions dropped).

    A commentary without a ``video_time`` is anchored at time 0 with kind
    ``"expert_commentary_take"`` (it speaks of the whole take).
    """
    path = Path(path)
    data = _json(path)
    out: dict[str, list[Caption]] = {}
    for uid, anns in (data.get("annotations") or {}).items():
        for ann in anns:
            for c in ann.get("commentary_data") or []:
                text = (c.get("text") or "").strip()
                if c.get("error") or not text:
                    continue
                vt = c.get("video_time")
                out.setdefault(uid, []).append(
                    Caption(float(vt), text, "expert_commentary") if vt is not None
                    else Caption(0.0, text, "expert_commentary_take"))
    return out


def read_aria_imu_csv(path: str | os.PathLike[str]) -> tuple[NDArray[np.float64],
                                                             NDArray[np.float32]]:
    """An Aria IMU stream extracted to CSV: timestamps (s, from the first row) and
    ``[ax ay az gx gy gz]`` in m/s^2 and rad/s, sorted by time, rows with gaps dropped.

    Raises:
        CorpusError: no recognised time, accelerometer or gyroscope columns.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader, [])]
        rows = [r for r in reader if r]
    col = {h: i for i, h in enumerate(header)}
    time_col = next((h for h in _TIME_COLUMNS if h in col), None)
    picks = []
    for kind in ("acc", "gyro"):
        for axis in "xyz":
            name = next((p.format(axis) for p in _AXIS_ALIASES[kind] if p.format(axis) in col),
                        None)
            if name is None:
                raise CorpusError(f"no {kind} {axis} column; expected one of "
                                  f"{[p.format(axis) for p in _AXIS_ALIASES[kind]]}", path=path)
            picks.append(col[name])
    if time_col is None:
        raise CorpusError(f"no timestamp column; expected one of {list(_TIME_COLUMNS)}",
                          path=path)
    try:
        table = np.array([[float(r[i] or "nan") for i in [col[time_col], *picks]]
                          for r in rows], dtype=np.float64).reshape(-1, 7)
    except (ValueError, IndexError) as exc:
        raise CorpusError(f"malformed IMU row: {exc}", path=path) from exc
    table = table[np.isfinite(table).all(axis=1)]
    table = table[np.argsort(table[:, 0], kind="stable")]
    t = (table[:, 0] - (table[0, 0] if table.size else 0.0)) * _TIME_COLUMNS[time_col]
    return t, table[:, 1:].astype(np.float32)


def _imu_streams(imu_dir: Path, take_name: str) -> dict[str, ImuStream]:
    streams = {}
    for name, loc in ((f"{take_name}_imu-right.csv", "head_right"),
                      (f"{take_name}_imu-left.csv", "head_left"), (f"{take_name}.csv", "head")):
        path = imu_dir / name
        if not path.is_file():
            continue
        t, x = read_aria_imu_csv(path)
        if t.size < 2:
            continue
        rate = float(1.0 / np.median(np.diff(t)))
        spec = SensorSpec(sample_rate_hz=rate, accel_unit="m/s^2", gyro_unit="rad/s",
                          gravity_removed=False)
        streams[loc] = ImuStream(t=t, data=x, spec=spec, location=loc)
    return streams


def _merge(root: Path, stem: str, split: str, reader: Any) -> dict[str, list[Caption]]:
    out: dict[str, list[Caption]] = {}
    ann = root / "annotations"
    for path in sorted(ann.glob(f"{stem}_{split}.json")) + sorted(ann.glob(f"{stem}.json")):
        for uid, caps in reader(path).items():
            out.setdefault(uid, []).extend(caps)
    return out


def load_egoexo4d(
    root: str | os.PathLike[str],
    *,
    annotation_split: str = "train",
    take_uids: Iterable[str] | None = None,
    imu_dir: str | os.PathLike[str] | None = None,
    mocap_fps: float = 10.0,
    max_gap_s: float = 1.0,
    up_axis: str = "z",
    max_clip_s: float | None = None,
    split: str | None = None,
    text_split: Split = "test",
    n_texts: int = 4,
) -> list[Sample]:
    """Read Ego-Exo4D takes into corpus samples (one per take, or per ``max_clip_s``).

    Each sample's timeline is the take's task interval labelled with its scenario
    (``parent_task_name``, lower case; ``task_name`` goes in the params); captions carry
    the atomic descriptions of the camera wearer and the expert commentary; mocap is the
    body pose resampled to ``mocap_fps`` (NaN where unannotated); IMU streams come from
    the CSVs in ``imu_dir``. Takes with neither body pose nor IMU are skipped.

    Args:
        root: the Ego-Exo4D download directory.
        annotation_split: which annotation split's files to read (``"train"``, ``"val"``).
        take_uids: only these takes.
        imu_dir: where the IMU CSVs are (default ``<root>/imu``).
        mocap_fps: output keypoint rate.
        max_gap_s: longest annotation gap bridged by interpolation.
        up_axis: the world axis pointing up in the annotations (``"z"``, ``"y"``, ``"-y"``);
            keypoints are rotated to z up.
        max_clip_s: cut takes into clips of at most this length.
        split: the split stamped on samples (default ``annotation_split``, ``"val"`` as is).
        text_split: grammar frames for the generated scenario descriptions.
        n_texts: generated descriptions per clip.

    Raises:
        ConfigError: an unknown ``up_axis``.
        CorpusError: a file is missing or malformed.
    """
    if up_axis not in _UP:
        raise ConfigError(f"up_axis must be one of {list(_UP)}, got {up_axis!r}")
    root = Path(root)
    imu_root = Path(imu_dir) if imu_dir is not None else root / "imu"
    wanted = None if take_uids is None else set(take_uids)
    atomic = _merge(root, "atomic_descriptions", annotation_split, read_atomic_descriptions)
    expert = _merge(root, "expert_commentary", annotation_split, read_expert_commentary)
    pose_dir = root / "annotations" / "ego_pose" / annotation_split / "body" / "annotation"
    out: list[Sample] = []
    for take in read_takes(root):
        uid = str(take["take_uid"])
        if wanted is not None and uid not in wanted:
            continue
        name = str(take.get("take_name") or uid)
        duration = float(take.get("duration_sec") or 0.0)
        mocap = None
        pose_path = pose_dir / f"{uid}.json"
        if pose_path.is_file() and duration > 0:
            frames, kp = read_body_pose(pose_path)
            grid = np.arange(int(np.floor(duration * mocap_fps + 1e-9))) / mocap_fps
            mocap = (resample_keypoints(frames / EGOEXO_VIDEO_FPS, kp, grid, max_gap_s)
                     @ _UP[up_axis].T).astype(np.float32)
        imu = _imu_streams(imu_root, name)
        if mocap is None and not imu:
            continue
        scenario = str(take.get("parent_task_name") or "unknown").strip().lower()
        start = take.get("task_start_sec")
        end = take.get("task_end_sec")
        t0 = 0.0 if start is None else max(0.0, float(start))
        t1 = duration if end is None else min(duration, float(end))
        rng = np.random.default_rng(list(uid.encode()))
        texts = tuple(describe(TextContext(scenario), rng, n_texts, text_split))
        params = {"task_name": take.get("task_name"), "task_id": take.get("task_id"),
                  "scenario": take.get("parent_task_name"), "dataset": "Ego-Exo4D"}
        timeline = (TimelineEntry(t0, t1, scenario, texts, params),) if t1 > t0 else ()
        captions = tuple(sorted(atomic.get(uid, []) + expert.get(uid, []), key=lambda c: c.t_s))
        sample = Sample(
            clip_id=name, source="egoexo4d", split=annotation_split if split is None else split,
            subject=f"egoexo4d-{take.get('participant_uid')}", duration_s=duration, imu=imu,
            mocap=mocap, timeline=timeline, texts=texts, captions=captions,
            params={**params, "take_uid": uid, "best_exo": take.get("best_exo"),
                    "up_axis_in_source": up_axis}, mocap_fps=mocap_fps)
        if max_clip_s is None or duration <= max_clip_s:
            out.append(sample)
        else:
            for k, a in enumerate(np.arange(0.0, duration, max_clip_s)):
                out.append(crop(sample, float(a), float(a) + max_clip_s, f"{name}#{k:03d}"))
    return out
