"""Real-data benchmark: a model bundle on UCI HAPT, through the device-side API only (no torch).

``aura eval --real hapt`` runs :func:`run_hapt_eval`. Every segment (a contiguous run of
one basic activity of at least 5 s, see :func:`aura_training.loaders.hapt_segments`) is
passed whole to the public calls a device uses, with the phones' own units
(:data:`~aura_training.loaders.HAPT_SENSOR_SPEC`: 50 Hz, g, rad/s, gravity included):

* zero-shot, free text: ``model.classify(seg, spec, labels=HAPT_LABELS)``;
* zero-shot, the bundle's labels: all of ``model.labels``, and each named label set of the
  bundle (``model.label_sets`` where the model has them); a prediction counts as right when
  :data:`BUNDLE_LABEL_MAP` maps it to the true class, and any other label is wrong;
* k-shot enrollment: per draw ``d`` (``numpy.random.default_rng(d)``), ``k`` segments per
  class are drawn from the enrolment subjects, enrolled under the six :data:`HAPT_LABELS`
  with ``model.enroll(..., replace=True, persist=False)``, every segment of the test
  subjects is classified among those six, then ``model.forget(..., persist=False)``;
* two baselines on the same draws, from 18 raw statistics per segment (per channel mean,
  standard deviation and mean absolute first difference, in the input units): a nearest
  centroid on features standardised with the enrolled examples' mean and standard
  deviation, and ``LogisticHead`` (scikit-learn's ``LogisticRegression(C=1)`` objective).

Metrics: accuracy, per-class precision / recall / F1 over the six HAPT classes, macro-F1 as
their mean over the classes present in the truth or the predictions; a prediction outside
the six classes counts against recall only. Means and (sample, ``ddof=1``) standard
deviations are over draws. HAPT is a development set (DESIGN.md): evaluate, never train.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import platform
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aura_sdk import ConfigError, SensorSpec
from aura_sdk.fewshot import LogisticHead
from aura_sdk.preprocessing import UPRIGHT_AXES, estimate_upright, rotate_imu, upright_rotation

from ..loaders import (
    HAPT_PICKLE_SHA256,
    HAPT_SDIST_SHA256,
    HAPT_SDIST_URL,
    HAPT_SENSOR_SPEC,
    HaptSegment,
    HaptSession,
    hapt_file,
    hapt_segments,
    read_hapt,
)
from ._classify import confusion_matrix
from ._real_report import render_hapt_report, write_hapt_report

if TYPE_CHECKING:
    from aura_sdk import AuraModel

__all__ = [
    "BUNDLE_LABEL_MAP",
    "HAPT_EVAL_FORMAT",
    "HAPT_LABELS",
    "RealEvalConfig",
    "evaluate_hapt",
    "render_hapt_report",
    "run_hapt_eval",
    "segment_statistics",
    "write_hapt_report",
]

logger = logging.getLogger(__name__)

HAPT_EVAL_FORMAT = "aura-eval-real-hapt/1"
#: The six HAPT classes as free-text labels (and the names they are enrolled under).
HAPT_LABELS: tuple[str, ...] = (
    "walking", "walking upstairs", "walking downstairs", "sitting", "standing", "lying down")
#: Bundle label -> HAPT class index (into :data:`HAPT_LABELS`); every other label is wrong.
BUNDLE_LABEL_MAP: Mapping[str, int] = {
    "walking": 0, "walking slowly": 0, "walking fast": 0, "walking upstairs": 1,
    "walking downstairs": 2, "sitting": 3, "standing": 4, "lying down": 5,
}
_OTHER = len(HAPT_LABELS)  # column of predictions outside the six classes


class RealEvalConfig(BaseModel):
    """What :func:`evaluate_hapt` runs.

    Attributes:
        draws: seeded draws of enrolment examples per ``k`` (seed = draw index).
        shots: the ``k`` values (examples per class).
        enroll_subjects, test_subjects: inclusive subject ranges (disjoint).
        min_samples: shortest segment kept (250 = 5 s at 50 Hz).
        target_shots, target_accuracy, target_margin: the goal checked in the result: at
            ``target_shots`` the model's mean accuracy reaches ``target_accuracy`` and beats
            the better baseline by ``target_margin``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    draws: int = Field(5, ge=1)
    shots: tuple[int, ...] = (1, 5, 10)
    enroll_subjects: tuple[int, int] = (1, 15)
    test_subjects: tuple[int, int] = (16, 30)
    min_samples: int = Field(250, ge=1)
    target_shots: int = 5
    target_accuracy: float = 0.93
    target_margin: float = 0.02

    @model_validator(mode="after")
    def _check(self) -> RealEvalConfig:
        if not self.shots or min(self.shots) < 1 or len(set(self.shots)) != len(self.shots):
            raise ValueError(f"shots must be distinct integers >= 1, got {self.shots}")
        (a, b), (c, d) = self.enroll_subjects, self.test_subjects
        if a > b or c > d:
            raise ValueError("subject ranges are (first, last) with first <= last")
        if not (b < c or d < a):
            raise ValueError(f"enrolment subjects {a}-{b} overlap test subjects {c}-{d}")
        return self


# -- features and metrics -----------------------------------------------------------------------
def segment_statistics(x: NDArray[Any]) -> NDArray[np.float64]:
    """18 raw statistics of a ``(T, 6)`` segment: per channel mean, standard deviation
    (``ddof=0``) and mean absolute first difference, in that order, in the input units."""
    a = np.asarray(x, dtype=np.float64)
    return np.concatenate([a.mean(axis=0), a.std(axis=0),
                           np.abs(np.diff(a, axis=0)).mean(axis=0)])


def _metrics(y_true: NDArray[np.int64], y_pred: NDArray[np.int64]) -> dict[str, Any]:
    """Scores over the six classes; ``y_pred == 6`` is a prediction outside them."""
    c = confusion_matrix(y_true, y_pred, _OTHER + 1)[:_OTHER]  # (6, 7): no true "other"
    tp = np.diag(c[:, :_OTHER]).astype(np.float64)
    support, predicted = c.sum(axis=1), c[:, :_OTHER].sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros(_OTHER), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(_OTHER), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(_OTHER), where=denom > 0)
    present = (support > 0) | (predicted > 0)
    return {
        "n": int(c.sum()), "accuracy": float(tp.sum() / max(int(c.sum()), 1)),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {lab: {"precision": float(precision[i]), "recall": float(recall[i]),
                            "f1": float(f1[i]), "support": int(support[i])}
                      for i, lab in enumerate(HAPT_LABELS)},
        "confusion": c.tolist(),
    }


def _summary(values: Sequence[float]) -> dict[str, Any]:
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "per_draw": [float(x) for x in v]}


# -- zero-shot ----------------------------------------------------------------------------------
def _top_labels(model: AuraModel, segs: Sequence[HaptSegment], labels: Sequence[str],
                spec: SensorSpec, what: str) -> list[str]:
    out = []
    for i, s in enumerate(segs):
        p = model.classify(s.samples, spec, labels=list(labels))
        out.append(max(p, key=p.__getitem__))
        if (i + 1) % 200 == 0:
            logger.info("%s: %d / %d segments", what, i + 1, len(segs))
    return out


def _zero_shot(model: AuraModel, segs: Sequence[HaptSegment], y: NDArray[np.int64],
               labels: Sequence[str], mapping: Mapping[str, int], spec: SensorSpec,
               what: str) -> dict[str, Any]:
    top = _top_labels(model, segs, labels, spec, what)
    pred = np.array([mapping.get(t, _OTHER) for t in top], dtype=np.int64)
    r = {"labels": list(labels), **_metrics(y, pred)}
    chosen: dict[str, Counter[str]] = {lab: Counter() for lab in HAPT_LABELS}
    for t, yi in zip(top, y.tolist(), strict=True):
        chosen[HAPT_LABELS[yi]][t] += 1
    r["predicted_labels"] = {k: dict(v.most_common()) for k, v in chosen.items()}
    return r


# -- k-shot -------------------------------------------------------------------------------------
def _picks(pools: Sequence[NDArray[np.int64]], k: int, draw: int) -> list[list[int]]:
    """Segment indices enrolled in one draw: ``k`` per class, without replacement."""
    rng = np.random.default_rng(draw)
    return [sorted(int(i) for i in rng.choice(pool, size=k, replace=False)) for pool in pools]


def _baselines(feats: NDArray[np.float64], y: NDArray[np.int64], train: list[int],
               test: NDArray[np.int64]) -> dict[str, NDArray[np.int64]]:
    ftr, ytr, fte = feats[train], y[train], feats[test]
    mean, std = ftr.mean(axis=0), ftr.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant feature stays unscaled
    ztr, zte = (ftr - mean) / std, (fte - mean) / std
    centroids = np.stack([ztr[ytr == c].mean(axis=0) for c in range(_OTHER)])
    dist = ((zte[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    head = LogisticHead.fit(ftr, ytr, _OTHER, l2=1.0 / len(ytr))
    return {"nearest_centroid": np.argmin(dist, axis=1).astype(np.int64),
            "logistic_regression": np.argmax(head.logits(fte), axis=1).astype(np.int64)}


def _split(segs: Sequence[HaptSegment], y: NDArray[np.int64],
           cfg: RealEvalConfig) -> tuple[list[NDArray[np.int64]], NDArray[np.int64]]:
    """Per-class enrolment pools and the test indices; checked before any scoring."""
    subj = np.array([s.subject for s in segs])
    lo, hi = cfg.enroll_subjects
    enrol = (subj >= lo) & (subj <= hi)
    test = np.flatnonzero((subj >= cfg.test_subjects[0]) & (subj <= cfg.test_subjects[1]))
    pools = [np.flatnonzero(enrol & (y == c)) for c in range(_OTHER)]
    short = {HAPT_LABELS[c]: len(p) for c, p in enumerate(pools) if len(p) < max(cfg.shots)}
    if short:
        raise ConfigError(f"k = {max(cfg.shots)} needs that many segments per class from "
                          f"subjects {lo}-{hi}; only {short}")
    if test.size == 0:
        raise ConfigError(f"no segments from the test subjects {cfg.test_subjects}")
    return pools, test


def _k_shot(model: AuraModel, segs: Sequence[HaptSegment], y: NDArray[np.int64],
            feats: NDArray[np.float64], cfg: RealEvalConfig, spec: SensorSpec,
            pools: Sequence[NDArray[np.int64]], test: NDArray[np.int64]) -> dict[str, Any]:
    methods = ("model", "nearest_centroid", "logistic_regression")
    out: dict[str, Any] = {}
    for k in cfg.shots:
        draws: list[dict[str, Any]] = []
        conf = {m: np.zeros((_OTHER, _OTHER + 1), dtype=np.int64) for m in methods}
        for d in range(cfg.draws):
            picks = _picks(pools, k, d)
            for name, idx in zip(HAPT_LABELS, picks, strict=True):
                model.enroll(name, examples=[segs[i].samples for i in idx], spec=spec,
                             replace=True, persist=False)
            try:
                top = _top_labels(model, [segs[int(i)] for i in test], HAPT_LABELS, spec,
                                  f"{k}-shot draw {d}")
            finally:
                for name in HAPT_LABELS:
                    model.forget(name, persist=False)
            preds = {"model": np.array([HAPT_LABELS.index(t) for t in top], dtype=np.int64),
                     **_baselines(feats, y, [i for p in picks for i in p], test)}
            row: dict[str, Any] = {"draw": d, "seed": d,
                                   "picks": dict(zip(HAPT_LABELS, picks, strict=True))}
            for m in methods:
                r = _metrics(y[test], preds[m])
                conf[m] += np.asarray(r["confusion"], dtype=np.int64)
                row[m] = {"accuracy": r["accuracy"], "macro_f1": r["macro_f1"]}
            draws.append(row)
            logger.info("%d-shot draw %d: model %.4f, nearest centroid %.4f, logistic "
                        "regression %.4f accuracy", k, d, row["model"]["accuracy"],
                        row["nearest_centroid"]["accuracy"],
                        row["logistic_regression"]["accuracy"])
        out[str(k)] = {
            "k": k, "n_test": int(test.size),
            **{m: {"accuracy": _summary([r[m]["accuracy"] for r in draws]),
                   "macro_f1": _summary([r[m]["macro_f1"] for r in draws]),
                   "confusion_summed": conf[m].tolist()} for m in methods},
            "draws": draws,
        }
    return out


def _target(k_shot: Mapping[str, Any], cfg: RealEvalConfig) -> dict[str, Any]:
    key = str(cfg.target_shots)
    if key not in k_shot:
        return {"k": cfg.target_shots, "evaluated": False}
    r = k_shot[key]
    model = r["model"]["accuracy"]["mean"]
    best = max(r["nearest_centroid"]["accuracy"]["mean"],
               r["logistic_regression"]["accuracy"]["mean"])
    return {"k": cfg.target_shots, "evaluated": True, "metric": "mean accuracy",
            "model": model, "best_baseline": best, "margin": model - best,
            "required_margin": cfg.target_margin, "required_accuracy": cfg.target_accuracy,
            "beats_baselines_by_margin": bool(model - best >= cfg.target_margin - 1e-12),
            "reaches_accuracy": bool(model >= cfg.target_accuracy)}


def turn_to_upright(sessions: Sequence[HaptSession], segments: Sequence[HaptSegment],
                    placement: str) -> tuple[list[HaptSegment], dict[str, Any]]:
    """Segments turned so that their session's upright (estimated without labels from the
    whole session, else from the subject's other sessions) lies along ``placement``'s
    upright axis: what a model told ``SensorSpec(upright=UPRIGHT_AXES[placement])`` reads.

    Returns:
        The turned segments and a summary (sessions estimated, taken from the subject).

    Raises:
        ConfigError: a subject with no session holding enough walking to find its upright.
    """
    own = {(s.subject, s.session): estimate_upright(s.samples, HAPT_SENSOR_SPEC)
           for s in sessions}
    by_subject: dict[int, list[NDArray[np.float64]]] = {}
    for (subject, _), u in own.items():
        if u is not None:
            by_subject.setdefault(subject, []).append(u)
    turns: dict[tuple[int, int], NDArray[np.float64]] = {}
    borrowed = 0
    for key, u in own.items():
        if u is None:
            others = by_subject.get(key[0])
            if not others:
                raise ConfigError(f"HAPT subject {key[0]}: no session holds enough walking to "
                                  "find the upright; evaluate with --upright none")
            u = np.mean(others, axis=0)
            borrowed += 1
        turns[key] = upright_rotation(u, placement)
    out = [dataclasses.replace(s, samples=rotate_imu(s.samples, turns[(s.subject, s.session)]))
           for s in segments]
    return out, {"sessions": len(own), "estimated": len(own) - borrowed,
                 "from_subject": borrowed, "method": "estimate_upright per session"}


def evaluate_hapt(
    model: AuraModel,
    segments: Sequence[HaptSegment],
    config: RealEvalConfig | None = None,
    *,
    spec: SensorSpec = HAPT_SENSOR_SPEC,
) -> dict[str, Any]:
    """Zero-shot and k-shot figures of ``model`` on HAPT segments, with the baselines.

    The model is used through ``classify`` / ``enroll`` / ``forget`` only; enrolled labels
    are forgotten after each draw (nothing is persisted).

    Returns:
        A JSON-ready dict: ``segments`` (counts), ``zero_shot`` (``free_text``,
        ``bundle_labels``, ``label_sets``), ``k_shot`` (per ``k``: model, nearest centroid
        and logistic regression, mean / std / per draw, the picks), ``target``.

    Raises:
        ConfigError: too few segments per class for the largest ``k``, or no test segment.
    """
    cfg = config or RealEvalConfig()
    if not segments:
        raise ConfigError("no HAPT segments to evaluate")
    segs = list(segments)
    y = np.array([s.activity - 1 for s in segs], dtype=np.int64)
    pools, test = _split(segs, y, cfg)
    t0 = time.perf_counter()
    labels_before = tuple(model.labels)
    logger.info("zero-shot, free text: %d segments", len(segs))
    zero: dict[str, Any] = {
        "free_text": _zero_shot(model, segs, y, HAPT_LABELS,
                                {lab: i for i, lab in enumerate(HAPT_LABELS)}, spec,
                                "zero-shot free text"),
        "bundle_labels": _zero_shot(model, segs, y, labels_before, BUNDLE_LABEL_MAP, spec,
                                    "zero-shot bundle labels"),
        "label_sets": {},
        "mapping": dict(BUNDLE_LABEL_MAP),
    }
    sets = getattr(model, "label_sets", None)  # optional: bundles with named label sets
    if isinstance(sets, Mapping):
        for name, members in sets.items():
            members = tuple(members)
            if members == labels_before:
                zero["label_sets"][name] = {"labels": list(members),
                                            "same_as": "bundle_labels"}
                continue
            try:
                zero["label_sets"][name] = _zero_shot(model, segs, y, members,
                                                      BUNDLE_LABEL_MAP, spec, f"set {name}")
            except ConfigError as exc:  # e.g. free-text members and no text encoder
                zero["label_sets"][name] = {"labels": list(members), "skipped": str(exc)}
    t1 = time.perf_counter()
    feats = np.stack([segment_statistics(s.samples) for s in segs])
    k_shot = _k_shot(model, segs, y, feats, cfg, spec, pools, test)
    t2 = time.perf_counter()
    if tuple(model.labels) != labels_before:
        logger.warning("the model's labels changed across enroll/forget: %s -> %s",
                       len(labels_before), len(model.labels))
    subj = np.array([s.subject for s in segs])
    lengths = np.array([len(s.samples) for s in segs])
    return {
        "classes": list(HAPT_LABELS),
        "config": cfg.model_dump(mode="json"),
        "spec": spec.model_dump(mode="json"),
        "segments": {
            "n": len(segs),
            "per_class": {lab: int((y == i).sum()) for i, lab in enumerate(HAPT_LABELS)},
            "subjects": sorted({int(s) for s in subj}),
            "enroll_pool": int(sum(len(p) for p in pools)),
            "test": int(test.size),
            "length_samples": {"min": int(lengths.min()), "median": float(np.median(lengths)),
                               "max": int(lengths.max())},
            "index": [[s.subject, s.session, s.start, s.stop, s.activity] for s in segs],
        },
        "zero_shot": zero,
        "k_shot": k_shot,
        "target": _target(k_shot, cfg),
        "labels_restored": tuple(model.labels) == labels_before,
        "timing_s": {"zero_shot": t1 - t0, "k_shot": t2 - t1},
    }


# -- the run and its report ---------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("aura-sdk", "onnxruntime"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def run_hapt_eval(
    out_dir: str | os.PathLike[str],
    *,
    model: AuraModel | None = None,
    bundle: str | os.PathLike[str] | None = None,
    precision: Literal["auto", "fp32", "fp16", "int8"] = "auto",
    device: Literal["auto", "tensorrt", "cuda", "cpu"] = "auto",
    hapt_path: str | os.PathLike[str] | None = None,
    config: RealEvalConfig | None = None,
    command: str = "",
    encoder_features: bool = True,
    placement: str | None = "waist",
    upright: bool = True,
) -> dict[str, Any]:
    """Locate (or download) HAPT, evaluate a bundle on it, write the report into ``out_dir``.

    Args:
        out_dir: folder for ``eval.json``, ``report.md`` and the confusion PNGs.
        model: a loaded model; else ``bundle`` (default: the embedded default bundle) is
            loaded with ``precision`` on ``device`` (see :func:`aura_sdk.load_bundle`).
        hapt_path: the sdist tarball or ``HAPT.pkl.gz`` (see
            :func:`aura_training.loaders.hapt_file`; default ``$AURA_HAPT_PATH``, else the
            cached or downloaded sdist).
        config: what to run (default :class:`RealEvalConfig`).
        command: the command line, recorded.
        encoder_features: when loading ``bundle``: let the few-shot head use the encoder's
            features output (``False``: the statistics-only ablation).
        placement: where the sensor is said to be worn (HAPT's phones were at the waist);
            ``None`` withholds it. Only bundles with a placement input read it.
        upright: for a bundle trained on frames turned to the wearer's upright (see
            :attr:`aura_sdk.SensorSpec.upright`): find each recording session's upright
            without labels (:func:`aura_sdk.preprocessing.estimate_upright`, over the whole
            session) and tell the model; other bundles are not affected.

    Returns:
        The result of :func:`evaluate_hapt` with provenance (``model``, ``dataset``,
        ``command``, ``versions``, ``wall_time_s``).

    Raises:
        CorpusError: the data cannot be found, downloaded or read.
        BundleError: the bundle is refused.
        ConfigError: see :func:`evaluate_hapt`.
    """
    start = time.perf_counter()
    cfg = config or RealEvalConfig()
    path = hapt_file(hapt_path)
    digest = _sha256(path)
    sessions = read_hapt(path)
    segs = hapt_segments(sessions, min_samples=cfg.min_samples)
    logger.info("HAPT: %d segments from %s", len(segs), path)
    if model is None:
        from aura_sdk import load_bundle

        model = load_bundle(bundle, precision=precision, device=device,
                            encoder_features=encoder_features)
    load_s = time.perf_counter() - start
    spec = HAPT_SENSOR_SPEC.model_copy(update={"placement": placement})
    found: dict[str, Any] | None = None
    if upright and model.reads_upright(placement):
        assert placement is not None
        segs, found = turn_to_upright(sessions, segs, placement)
        spec = spec.model_copy(update={"upright": UPRIGHT_AXES[placement]})
    result = evaluate_hapt(model, segs, cfg, spec=spec)
    result["upright"] = found
    result["timing_s"]["load"] = load_s
    man = model.manifest
    result = {
        "format": HAPT_EVAL_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "model": {"name": man.name, "version": man.version, "fingerprint": model.fingerprint,
                  "bundle": str(model.bundle.path), "precision": model.precision,
                  "backend": model.backend, "labels": len(model.labels),
                  "few_shot_features": model.feature_layout},
        "dataset": {"name": "UCI HAPT (Reyes-Ortiz et al.)", "file": str(path),
                    "sha256": digest, "source": HAPT_SDIST_URL,
                    "verified": digest in (HAPT_SDIST_SHA256, HAPT_PICKLE_SHA256)},
        **result,
        "versions": _versions(),
    }
    result["wall_time_s"] = time.perf_counter() - start
    write_hapt_report(result, out_dir)
    return result
