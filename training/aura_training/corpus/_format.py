"""The shard file: many clips in one ``.npz``, arrays concatenated, metadata as JSON.

A shard is a zip of ``.npy`` members (``np.load(path, allow_pickle=False)`` reads it; no
pickle anywhere):

========== ===================== =============================================
member     dtype, shape          holds
========== ===================== =============================================
``meta``   uint8 (bytes,)        UTF-8 JSON: format version and, per clip, its
                                 ids, timeline, texts, params, IMU specs and the
                                 row counts that cut the arrays below
``imu_t``  float64 (sum n,)      IMU timestamps, every stream of every clip
``imu_x``  float32 (sum n, 6)    IMU samples
``mocap``  float32 (sum N,17,3)  keypoints
``video``  uint8 (sum N, H, W)   frames (one frame size per shard)
``feat.K`` any (sum k, ...)      precomputed feature ``K``
========== ===================== =============================================

Members are written with a fixed timestamp, so the same clips give the same bytes (the
manifest's sha256 is reproducible from the seed).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aura_sdk import SensorSpec

from ._errors import CorpusError
from ._sample import Caption, ImuStream, Sample, TimelineEntry

__all__ = [
    "SHARD_FORMAT_VERSION",
    "ShardStats",
    "jsonable",
    "member_sizes",
    "read_shard",
    "write_shard",
]

SHARD_FORMAT_VERSION = 1
_EPOCH = (1980, 1, 1, 0, 0, 0)
MODALITIES = ("imu", "mocap", "video", "text")


def jsonable(value: Any) -> Any:
    """Turn numpy scalars / arrays and tuples into plain JSON values, recursively."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


@dataclass(frozen=True)
class ShardStats:
    """What the manifest records about a written shard."""

    path: Path
    clips: int
    duration_s: float
    bytes: int
    sha256: str
    activities: dict[str, float]  # label -> labelled seconds


def _clip_meta(s: Sample) -> dict[str, Any]:
    return {
        "clip_id": s.clip_id,
        "source": s.source,
        "split": s.split,
        "subject": s.subject,
        "duration_s": float(s.duration_s),
        "imu": [
            {"location": loc, "spec": st.spec.model_dump(), "n": int(st.t.shape[0])}
            for loc, st in s.imu.items()
        ],
        "mocap_n": 0 if s.mocap is None else int(s.mocap.shape[0]),
        "mocap_fps": float(s.mocap_fps),
        "video_n": 0 if s.video is None else int(s.video.shape[0]),
        "video_fps": float(s.video_fps),
        "timeline": [
            {"start_s": e.start_s, "end_s": e.end_s, "activity": e.activity,
             "texts": list(e.texts), "params": dict(e.params)}
            for e in s.timeline
        ],
        "texts": list(s.texts),
        "captions": [{"t_s": c.t_s, "text": c.text, "kind": c.kind} for c in s.captions],
        "params": dict(s.params),
        "features": {k: int(np.shape(v)[0]) for k, v in sorted(s.features.items())},
    }


def _put(zf: zipfile.ZipFile, name: str, array: NDArray[Any]) -> None:
    info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    zf.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)


def _concat(parts: list[NDArray[Any]], empty_shape: tuple[int, ...], dtype: Any) -> NDArray[Any]:
    return np.concatenate(parts, axis=0).astype(dtype, copy=False) if parts else np.zeros(
        empty_shape, dtype=dtype)


def write_shard(path: str | os.PathLike[str], samples: Sequence[Sample]) -> ShardStats:
    """Write clips to one shard file (atomically: a temporary file, then a rename).

    Args:
        path: the ``.npz`` file to write.
        samples: the clips, in the order they will be read back.

    Returns:
        The shard's :class:`ShardStats` (size, sha256, labelled seconds per activity).

    Raises:
        CorpusError: clips disagree on the video frame size, or a feature's row count is
            missing.
    """
    path = Path(path)
    meta = {"format": "aura-corpus-shard", "version": SHARD_FORMAT_VERSION,
            "clips": [jsonable(_clip_meta(s)) for s in samples]}
    imu_t: list[NDArray[Any]] = []
    imu_x: list[NDArray[Any]] = []
    mocap: list[NDArray[Any]] = []
    video: list[NDArray[Any]] = []
    feats: dict[str, list[NDArray[Any]]] = {}
    frame_shapes = {s.video.shape[1:] for s in samples if s.video is not None}
    if len(frame_shapes) > 1:
        raise CorpusError(f"clips of one shard must share a frame size, got {frame_shapes}",
                          path=path)
    names = sorted({k for s in samples for k in s.features})
    for s in samples:
        for st in s.imu.values():
            imu_t.append(np.asarray(st.t, dtype=np.float64))
            imu_x.append(np.asarray(st.data, dtype=np.float32))
        if s.mocap is not None:
            mocap.append(np.asarray(s.mocap, dtype=np.float32))
        if s.video is not None:
            video.append(np.asarray(s.video, dtype=np.uint8))
        for k in names:
            if k in s.features:
                feats.setdefault(k, []).append(np.asarray(s.features[k]))
    frame = next(iter(frame_shapes), (0, 0))
    blob = json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        _put(zf, "meta", np.frombuffer(blob.encode("utf-8"), dtype=np.uint8))
        _put(zf, "imu_t", _concat(imu_t, (0,), np.float64))
        _put(zf, "imu_x", _concat(imu_x, (0, 6), np.float32))
        _put(zf, "mocap", _concat(mocap, (0, 17, 3), np.float32))
        _put(zf, "video", _concat(video, (0, *frame), np.uint8))
        for k, parts in feats.items():
            _put(zf, f"feat.{k}", np.concatenate(parts, axis=0))
    os.replace(tmp, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    activities: dict[str, float] = {}
    for s in samples:
        for e in s.timeline:
            activities[e.activity] = activities.get(e.activity, 0.0) + (e.end_s - e.start_s)
    return ShardStats(path=path, clips=len(samples),
                      duration_s=float(sum(s.duration_s for s in samples)),
                      bytes=path.stat().st_size, sha256=digest, activities=activities)


def _offsets(counts: Iterable[int]) -> NDArray[np.int64]:
    return np.concatenate([[0], np.cumsum(np.fromiter(counts, dtype=np.int64))])


def read_shard(
    path: str | os.PathLike[str],
    modalities: Iterable[str] = MODALITIES,
    features: Iterable[str] = (),
) -> list[Sample]:
    """Read every clip of a shard.

    Args:
        path: the shard file.
        modalities: which of ``imu``, ``mocap``, ``video``, ``text`` to load (the others
            come back empty: their members are not even decompressed).
        features: names of precomputed features to load.

    Returns:
        The clips in file order.

    Raises:
        CorpusError: the file is not a shard of a version this code reads, or is damaged.
    """
    path = Path(path)
    want = set(modalities)
    unknown = want - set(MODALITIES)
    if unknown:
        raise CorpusError(f"unknown modalities {sorted(unknown)}; choose from {MODALITIES}",
                          path=path)
    feature_names = list(features)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != "aura-corpus-shard" or meta.get("version") != (
                    SHARD_FORMAT_VERSION):
                raise CorpusError(
                    f"shard format {meta.get('format')!r} v{meta.get('version')} is not "
                    f"aura-corpus-shard v{SHARD_FORMAT_VERSION}; regenerate the corpus with "
                    "this version of aura-sdk", path=path)
            imu_t = z["imu_t"] if "imu" in want else None
            imu_x = z["imu_x"] if "imu" in want else None
            mocap = z["mocap"] if "mocap" in want else None
            video = z["video"] if "video" in want else None
            # A feature no clip of this shard has is simply absent.
            feats = {k: z[f"feat.{k}"] for k in feature_names if f"feat.{k}" in z.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        if isinstance(exc, CorpusError):
            raise
        raise CorpusError(f"cannot read shard: {exc}", path=path) from exc
    clips = meta["clips"]
    imu_off = _offsets(st["n"] for c in clips for st in c["imu"])
    mocap_off = _offsets(c["mocap_n"] for c in clips)
    video_off = _offsets(c["video_n"] for c in clips)
    feat_off = {k: _offsets(c["features"].get(k, 0) for c in clips) for k in feats}
    out: list[Sample] = []
    stream = 0
    for i, c in enumerate(clips):
        imu: dict[str, ImuStream] = {}
        for st in c["imu"]:
            if imu_t is not None and imu_x is not None:
                a, b = imu_off[stream], imu_off[stream + 1]
                imu[st["location"]] = ImuStream(t=imu_t[a:b], data=imu_x[a:b],
                                                spec=SensorSpec(**st["spec"]),
                                                location=st["location"])
            stream += 1
        text = "text" in want
        out.append(Sample(
            clip_id=c["clip_id"], source=c["source"], split=c["split"], subject=c["subject"],
            duration_s=c["duration_s"], imu=imu,
            mocap=None if mocap is None or c["mocap_n"] == 0
            else mocap[mocap_off[i]:mocap_off[i + 1]],
            video=None if video is None or c["video_n"] == 0
            else video[video_off[i]:video_off[i + 1]],
            timeline=tuple(
                TimelineEntry(e["start_s"], e["end_s"], e["activity"],
                              tuple(e["texts"]) if text else (), e["params"])
                for e in c["timeline"]),
            texts=tuple(c["texts"]) if text else (),
            captions=tuple(Caption(x["t_s"], x["text"], x["kind"]) for x in c["captions"])
            if text else (),
            params=c["params"],
            features={k: feats[k][feat_off[k][i]:feat_off[k][i + 1]]
                      for k in feats if c["features"].get(k, 0)},
            mocap_fps=c["mocap_fps"], video_fps=c["video_fps"],
        ))
    return out


def member_sizes(path: str | os.PathLike[str]) -> dict[str, int]:
    """Compressed bytes of each member of a shard (``imu``, ``mocap``, ``video``, ``meta``,
    ``feat.K``), read from the zip directory without decompressing anything."""
    out: dict[str, int] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            key = "imu" if name in ("imu_t", "imu_x") else name
            out[key] = out.get(key, 0) + info.compress_size
    return out
