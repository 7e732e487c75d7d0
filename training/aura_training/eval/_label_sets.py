"""Closed-set accuracy of an exported bundle per label set, through the device-side API.

Every labelled window of a corpus split goes through the SDK's preprocessing
(:func:`~aura_training.eval.eval_windows`, the code a device runs) and the bundle's own
encoder (:meth:`aura_sdk.AuraModel.encode_windows`); for each label set, the windows whose
true activity is in the set are classified among that set's labels only, by the scorer a
device scoring that set uses (:meth:`aura_sdk.AuraModel.scorer`: cosine, temperature, the
few-shot head over enrolled labels, unknown rejection), so each window gets the label
``AuraModel.classify`` ranks first for it. Accuracy is closed-set (the most probable label,
never "unknown"); ``unknown_rate`` is the share of those windows the device would report as
"unknown" under the bundle's rejection. numpy only: no torch.

``bouts=True`` scores longer context instead: each bout (the successive windows of one
activity in one clip) is one decision, by :meth:`aura_sdk.Scorer.score_recording` (the
renormalised mean of its windows' embeddings; the few-shot head multiplies their
probabilities), as a device that waits for an activity to end, or smooths over it, decides.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aura_sdk import ConfigError
from aura_sdk.bundle import LABEL_SET_ALL
from aura_sdk.preprocessing import UPRIGHT_SUFFIX

from ..corpus import CorpusReader, Sample, load_manifest
from ._classify import classification_metrics
from ._inputs import UprightMode, WindowStats, eval_windows
from ._plot import plot_confusion
from ._report import fmt

if TYPE_CHECKING:
    from aura_sdk import AuraModel

__all__ = ["LABEL_SET_EVAL_FORMAT", "evaluate_label_sets", "render_label_set_report"]

LABEL_SET_EVAL_FORMAT = "aura-label-set-eval"
_VERSION = 1
_BATCH = 256

Data = str | os.PathLike[str] | Sequence[Sample]


def _samples(data: Data, split: str) -> Iterable[Sample]:
    if isinstance(data, str | os.PathLike):
        return CorpusReader(data, split, modalities=("imu",))
    return [s for s in data if s.split == split]


def _provenance(data: Data) -> dict[str, Any]:
    if not isinstance(data, str | os.PathLike):
        return {"kind": "samples", "source": ",".join(sorted({s.source for s in data}))}
    root = Path(data)
    m = load_manifest(root)
    return {"kind": "corpus", "path": str(root), "source": m.source,
            "manifest_sha256": hashlib.sha256((root / "manifest.json").read_bytes()).hexdigest(),
            "held_out_activities": list(m.held_out_activities)}


def evaluate_label_sets(
    model: AuraModel,
    data: Data,
    *,
    label_sets: Sequence[str] | None = None,
    split: str = "test",
    hop_s: float | None = None,
    location: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    command: str | None = None,
    upright: UprightMode = "none",
    bouts: bool = False,
) -> dict[str, Any]:
    """Closed-set accuracy and macro-F1 of a bundle per label set on one corpus split.

    Args:
        model: the loaded bundle (:func:`aura_sdk.load_bundle`).
        data: a corpus directory (``aura data synth``) or samples from a loader.
        label_sets: set names to score (default: every set of the bundle, ``"all"`` last).
        split: the split scored (held-out subjects).
        hop_s: hop between windows (default: one window, no overlap).
        location: IMU stream (default: a wrist, see ``DEFAULT_LOCATIONS``).
        out_dir: write ``eval.json``, ``report.md`` and a confusion PNG per set here.
        command: the command line, for the report.
        upright: whether the model is told each clip's upright (see
            :data:`~aura_training.eval.UprightMode`; only models trained for it read it).
        bouts: one decision per bout (a clip's successive windows of one activity, pooled)
            instead of per window; the counts are then bouts.

    Returns:
        The JSON-able result (``eval.json``): per set, accuracy, macro-F1, windows, the
        activities scored and those held out of the model's training, and the share of the
        windows the device would report as "unknown" (``unknown_rate``).

    Raises:
        ConfigError: an unknown set, or the split yields no labelled window.
        CorpusError: the corpus or the split does not exist.
    """
    sets = list(label_sets) if label_sets is not None else [
        *(k for k in model.label_sets if k != LABEL_SET_ALL), LABEL_SET_ALL]
    # resolving the sets refuses an unknown one before the slow part
    scorers = {name: model.scorer(name) for name in sets}
    features = any(sc.needs_features for sc in scorers.values())
    stats = WindowStats()
    acts: list[str] = []
    embs: list[np.ndarray] = []
    feats: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    where: list[str | None] = []
    clips: list[str] = []

    def flush() -> None:
        if batch:
            e, f = model.encode_windows(np.stack(batch), features=features, placement=where)
            embs.append(e)
            if f is not None:
                feats.append(f)
            batch.clear()
            where.clear()

    for w in eval_windows(_samples(data, split), model.input_spec, hop_s=hop_s,
                          location=location, modalities=("imu",), stats=stats,
                          upright=upright, upright_placements=model.placements):
        acts.append(w.activity)
        clips.append(w.clip_id)
        batch.append(w.imu)
        where.append(w.placement)
        if len(batch) >= _BATCH:
            flush()
    flush()
    if not acts:
        raise ConfigError(f"split {split!r} gave no labelled window (dropped: {stats.dropped}); "
                          "check the split name and the IMU location")
    emb = np.concatenate(embs)
    feat = np.concatenate(feats) if feats else None
    truth = np.array(acts)
    groups = _bouts(clips, acts) if bouts else None
    if groups is not None:
        truth = truth[[g[0] for g in groups]]
    provenance = _provenance(data)
    held_out = set(provenance.get("held_out_activities", ()))
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for name, scorer in scorers.items():
        labels = list(scorer.labels)
        inside = np.isin(truth, labels)
        rows = np.flatnonzero(inside)
        if rows.size == 0:
            results[name] = {"skipped": f"no window of split {split!r} shows an activity of "
                             "the set", "labels": labels}
            continue
        index = {lab: i for i, lab in enumerate(labels)}
        y = np.array([index[a] for a in truth[rows]], dtype=np.int64)
        # every window (bout) scored among the set: its own to rank, the others to be rejected
        if groups is None:
            decided = scorer.decide_all(*scorer.score(emb, feat))
        else:
            pooled = [scorer.score_recording(emb[g], None if feat is None else feat[g])
                      for g in groups]
            decided = scorer.decide_all(np.stack([c for c, _ in pooled]),
                                        np.stack([p for _, p in pooled]))
        pred = decided.best[rows]
        unknown = decided.unknown[rows]
        m = classification_metrics(y, pred, labels)
        res: dict[str, Any] = m.as_dict()
        res["unknown_rate"] = float(unknown.mean())
        right = pred == y
        # both sides of unknown rejection: correct answers lost, other activities caught
        res["correct_rejected"] = float(unknown[right].mean()) if right.any() else None
        res["accuracy_decided"] = float(np.mean(right & ~unknown))
        res["outside_windows"] = int((~inside).sum())
        res["outside_rejected"] = (float(decided.unknown[~inside].mean()) if (~inside).any()
                                   else None)
        present = sorted({str(a) for a in truth[rows]}, key=labels.index)
        ho = [a for a in present if a in held_out]
        ho_rows = np.isin(truth[rows], ho)
        res.update({
            "activities_scored": present,
            "labels_without_windows": [x for x in labels if x not in present],
            "held_out_activities": ho,
            "held_out_windows": int(ho_rows.sum()),
            "held_out_accuracy": float(np.mean(pred[ho_rows] == y[ho_rows])) if ho else None,
            "seen_accuracy": (float(np.mean(pred[~ho_rows] == y[~ho_rows]))
                              if (~ho_rows).any() else None),
        })
        if out is not None:
            png = plot_confusion(m.confusion, labels, out / f"confusion_{name}.png",
                                 title=f"closed set {name!r} ({len(labels)} labels)")
            res["confusion_png"] = png.name
        results[name] = res
    result: dict[str, Any] = {
        "format": LABEL_SET_EVAL_FORMAT, "version": _VERSION,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "bundle": {"path": str(model.bundle.path), "name": model.manifest.name,
                   "version": model.manifest.version, "fingerprint": model.fingerprint,
                   "precision": model.precision, "backend": model.backend,
                   "default_label_set": model.default_label_set},
        "data": {**provenance, "split": split, "clips": stats.clips, "windows": len(acts),
                 "bouts": None if groups is None else len(groups),
                 "dropped": stats.dropped,
                 "activities": {a: int(n) for a, n in zip(*np.unique(truth, return_counts=True),
                                                          strict=True)}},
        "settings": {"hop_s": hop_s, "location": location, "window_s": model.input_spec.window_s,
                     "upright": upright, "per": "window" if groups is None else "bout",
                     "windows_told_upright": (
                         0 if upright == "none" or not any(
                             p.endswith(UPRIGHT_SUFFIX) for p in model.placements)
                         else len(acts) - stats.missing.get("upright", 0))},
        "label_sets": results,
    }
    if out is not None:
        (out / "eval.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        (out / "report.md").write_text(render_label_set_report(result))
    return result


def _bouts(clips: Sequence[str], acts: Sequence[str]) -> list[np.ndarray]:
    """Row indices of each bout: a run of successive windows of one clip and one activity
    (:func:`eval_windows` yields a clip's windows in time order)."""
    out: list[list[int]] = []
    for i, key in enumerate(zip(clips, acts, strict=True)):
        if i and key == (clips[i - 1], acts[i - 1]):
            out[-1].append(i)
        else:
            out.append([i])
    return [np.array(g, dtype=np.int64) for g in out]


def _upright_note(settings: Mapping[str, Any], windows: int) -> str:
    mode, told = settings.get("upright", "none"), settings.get("windows_told_upright", 0)
    if mode == "none" or not told:
        return ""
    how = ("found from each clip's own stream without labels" if mode == "estimate"
           else "from the corpus's mounting of each device")
    return (f" The wearer's upright was told to the model ({how}) for {told} of the "
            f"{windows} windows.")


def render_label_set_report(result: Mapping[str, Any]) -> str:
    """``report.md`` of :func:`evaluate_label_sets`: one row per label set."""
    b, d = result["bundle"], result["data"]
    per_bout = result["settings"].get("per") == "bout"
    unit = "bouts" if per_bout else "windows"
    how = (f"{d['windows']} windows of {result['settings']['window_s']:g} s from {d['clips']} "
           "clips, through the SDK's preprocessing and the bundle's encoder.")
    if per_bout:
        how += (f" Scored per bout: each of the {d['bouts']} bouts (a clip's successive "
                "windows of one activity) is one decision, from the renormalised mean of its "
                "windows' embeddings (`Scorer.score_recording`), as a device that decides over "
                "a whole bout does; every count below is of bouts.")
    lines = [
        f"# Closed-set accuracy per label set: `{b['name']}` {b['version']}", "",
        f"Bundle `{b['path']}` ({b['precision']}, {b['backend']}; default label set "
        f"`{b['default_label_set']}`), split `{d['split']}` of `{d.get('path', d['source'])}`: "
        + how + f" For each set, only the {unit} whose true activity is in the set count, and "
        "each is classified among the set's labels only. Held-out activities were left out of "
        f"the model's training. Unknown: the share of those {unit} a device would report as "
        "\"unknown\" under the bundle's rejection (accuracy ranks every label and rejects "
        "none); correct rejected: the share of the correctly ranked ones it would report as "
        "unknown; decided: accuracy with unknown counted as a miss (what a live device shows); "
        f"outside rejected: the share of the {unit} of activities outside the set, scored among "
        "the set's labels, reported as unknown (what rejection is for)."
        + _upright_note(result["settings"], d["windows"]), "",
        f"| label set | labels | {unit} | accuracy | macro-F1 | chance | held-out activities "
        f"({unit}) | held-out accuracy | seen accuracy | unknown | correct rejected | decided "
        f"| outside rejected ({unit}) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["label_sets"].items():
        if "skipped" in r:
            lines.append(f"| `{name}` | {len(r['labels'])} | 0 |" + " - |" * 10)
            continue
        ho = ", ".join(r["held_out_activities"]) or "none"
        lines.append(
            f"| `{name}` | {len(r['labels'])} | {r['n']} | {fmt(r['accuracy'])} | "
            f"{fmt(r['macro_f1'])} | {fmt(r['chance'])} | {ho} ({r['held_out_windows']}) | "
            f"{fmt(r['held_out_accuracy'])} | {fmt(r['seen_accuracy'])} | "
            f"{fmt(r.get('unknown_rate'))} | {fmt(r.get('correct_rejected'))} | "
            f"{fmt(r.get('accuracy_decided'))} | {fmt(r.get('outside_rejected'))}"
            + (f" ({r['outside_windows']})" if r.get("outside_windows") else "") + " |")
    lines.append("")
    for name, r in result["label_sets"].items():
        if "skipped" in r:
            continue
        scored = [(k, v) for k, v in r["per_class"].items() if v["support"] > 0]
        worst = sorted(scored, key=lambda kv: kv[1]["f1"])[:3]
        lines.append(f"- `{name}`: weakest F1 " + ", ".join(
            f"{k} {v['f1']:.2f}" for k, v in worst)
            + (f"; labels without {unit}: {', '.join(r['labels_without_windows'])}"
               if r["labels_without_windows"] else "")
            + (f" ([confusion]({r['confusion_png']}))" if "confusion_png" in r else ""))
    if result.get("command"):
        lines += ["", f"Command: `{result['command']}`"]
    return "\n".join(lines) + "\n"
