"""The evaluation runner: embed a held-out split and compute every number of the report.

Given a model (a :class:`~aura_training.models.MultiModalEncoder` and the
:class:`~aura_sdk.ModelInputSpec` it was trained for) and data (a corpus directory, or any
loader's samples), :func:`evaluate`:

1. embeds the windows of the evaluation split with every modality the model has;
2. scores retrieval in every direction between those modalities;
3. classifies zero-shot against text prototypes (held-out prompt templates for the test
   split) three ways: the activities also seen in training, the activities held out of
   training entirely (true zero-shot), and all of them together;
4. fits a linear probe on frozen embeddings of the training split and fine-tunes the IMU
   encoder with a linear head (transfer), both scored on the evaluation split's seen
   activities;
5. returns one JSON-able dict and, given ``out_dir``, writes ``eval.json``, ``report.md``
   and the confusion-matrix PNGs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from aura_sdk import ConfigError, ModelInputSpec

from ..corpus import CorpusReader, Sample, load_manifest
from ..text import PROMPT_TEMPLATES
from ._classify import classification_metrics, zero_shot_predict
from ._embed import EmbeddedWindows, embed_labels, embed_windows, model_device
from ._finetune import FinetuneConfig, finetune_transfer
from ._inputs import EvalWindow, WindowStats, eval_windows
from ._plot import plot_confusion
from ._probe import linear_probe
from ._report import EVAL_FORMAT, EVAL_VERSION, write_report
from ._retrieval import DEFAULT_KS, cross_modal_retrieval

__all__ = ["EvalConfig", "evaluate"]

logger = logging.getLogger(__name__)

Data = str | os.PathLike[str] | Sequence[Sample]


class EvalConfig(BaseModel):
    """What :func:`evaluate` computes and on which data.

    Attributes:
        split: the split evaluated (held-out subjects; zero-shot activities live here).
        train_split: the split the linear probe and fine-tuning learn from, and whose
            activities count as "seen".
        hop_s: hop between evaluation windows (default: one window, no overlap); windows
            are the model's own length.
        prompt_split: prompt templates for the label prototypes (default: ``"test"`` when
            evaluating the test split, else ``"train"``).
        imu_location: IMU stream to evaluate (default: a wrist; see ``DEFAULT_LOCATIONS``).
        modalities: restrict the modalities embedded (default: all the model has).
        batch_size: windows per forward pass.
        ks: recall cut-offs.
        linear_probe: fit the linear probe.
        probe_l2: its L2 penalty.
        finetune: run the fine-tune transfer evaluation.
        finetune_config: its budget.
        max_train_windows: cap on training windows for probe and fine-tune (a seeded
            uniform sample beyond it).
        seen_activities: the activities the model was trained on, when the data's own
            training split does not say (e.g. a real data set evaluated with a model
            trained on the synthetic corpus); default: the training split's activities.
        seed: seeds the training-window sample.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    split: str = "test"
    train_split: str = "train"
    hop_s: float | None = Field(default=None, gt=0)
    prompt_split: Literal["train", "test"] | None = None
    imu_location: str | None = None
    modalities: tuple[str, ...] | None = None
    batch_size: int = Field(default=64, ge=1)
    ks: tuple[int, ...] = DEFAULT_KS
    linear_probe: bool = True
    probe_l2: float = Field(default=1e-2, gt=0)
    finetune: bool = True
    finetune_config: FinetuneConfig = Field(default_factory=FinetuneConfig)
    max_train_windows: int | None = Field(default=4000, ge=1)
    seen_activities: tuple[str, ...] | None = None
    seed: int = 0

    @property
    def prompts(self) -> Literal["train", "test"]:
        """The prompt template set in effect."""
        if self.prompt_split is not None:
            return self.prompt_split
        return "test" if self.split == "test" else "train"


def _samples(data: Data, split: str, modalities: Sequence[str]) -> Iterable[Sample]:
    if isinstance(data, str | os.PathLike):
        # frames with the clip's drawn sensor noise, as the model saw them in training
        return CorpusReader(data, split, modalities=modalities, video_noise=True)
    return [s for s in data if s.split == split]


def _has_split(data: Data, split: str) -> bool:
    if isinstance(data, str | os.PathLike):
        return split in load_manifest(data).splits
    return any(s.split == split for s in data)


def _split_activities(data: Data, split: str) -> set[str]:
    if isinstance(data, str | os.PathLike):
        info = load_manifest(data).splits.get(split)
        return set() if info is None else set(info.activities)
    return {a for s in data if s.split == split for a in s.activities}


def data_provenance(data: Data) -> dict[str, Any]:
    """Where the data came from: corpus path, manifest hash, generator; or loader samples."""
    if isinstance(data, str | os.PathLike):
        root = Path(data)
        m = load_manifest(root)
        raw = (root / "manifest.json").read_bytes()
        return {
            "kind": "corpus", "path": str(root), "source": m.source, "generator": m.generator,
            "manifest_sha256": hashlib.sha256(raw).hexdigest(),
            "held_out_activities": list(m.held_out_activities),
            "splits": {k: {"clips": v.clips, "hours": v.duration_s / 3600.0}
                       for k, v in m.splits.items()},
        }
    sources = sorted({s.source for s in data})
    splits: dict[str, dict[str, float]] = {}
    for s in data:
        d = splits.setdefault(s.split or "(none)", {"clips": 0, "hours": 0.0})
        d["clips"] += 1
        d["hours"] += s.duration_s / 3600.0
    return {"kind": "samples", "source": ",".join(sources), "splits": splits}


def model_summary(model: nn.Module) -> dict[str, Any]:
    """Encoder classes, configs and parameter counts of a multi-modal model (and the IMU
    encoder's forward FLOPs per window)."""
    encs = getattr(model, "encoders", {})
    out: dict[str, Any] = {"embed_dim": int(getattr(model, "embed_dim", 0)), "encoders": {}}
    for name, enc in encs.items():
        cfg = getattr(enc, "config", None)
        out["encoders"][name] = {
            "class": type(enc).__name__,
            "config": cfg.model_dump(mode="json") if isinstance(cfg, BaseModel) else None,
            "parameters": int(sum(p.numel() for p in enc.parameters())),
        }
        dummy = getattr(enc, "dummy_input", None)
        if name == "imu" and callable(dummy):
            from ..models._common import count_flops

            out["encoders"][name]["flops"] = int(count_flops(enc, dummy(1)))
    return out


def _environment(model: nn.Module) -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {"aura_sdk": version("aura-sdk"), "torch": torch.__version__,
            "numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "device": str(model_device(model)),
            "threads": torch.get_num_threads()}


def _reservoir(items: Iterable[EvalWindow], k: int | None, seed: int,
               ) -> tuple[list[EvalWindow], int]:
    """A seeded uniform sample of ``k`` items from a stream (all of them if fewer)."""
    rng = np.random.default_rng(seed)
    kept: list[EvalWindow] = []
    n = 0
    for n, item in enumerate(items, start=1):
        if k is None or len(kept) < k:
            kept.append(item)
        else:
            j = int(rng.integers(0, n))
            if j < k:
                kept[j] = item
    return kept, n


def _zero_shot(model: nn.Module, emb: EmbeddedWindows, labels: list[str], name: str,
               prompts: Literal["train", "test"], out_dir: Path | None) -> dict[str, Any]:
    if len(labels) < 2:
        return {"skipped": f"needs two activities or more, the split has {len(labels)}"}
    rows = [i for i, a in enumerate(emb.activities) if a in labels]
    protos, _ = embed_labels(model, labels, prompts)
    index = {lab: i for i, lab in enumerate(labels)}
    y = np.array([index[emb.activities[i]] for i in rows])
    pred = zero_shot_predict(emb.embeddings["imu"][rows], protos)
    m = classification_metrics(y, pred, labels)
    out = m.as_dict()
    if out_dir is not None:
        png = plot_confusion(m.confusion, labels, out_dir / f"confusion_{name}.png",
                             title=f"zero-shot, {name} activities ({prompts} prompts)")
        out["confusion_png"] = png.name
    return out


def _labelled(emb: EmbeddedWindows, labels: list[str]) -> tuple[list[int], np.ndarray]:
    index = {lab: i for i, lab in enumerate(labels)}
    rows = [i for i, a in enumerate(emb.activities) if a in index]
    return rows, np.array([index[emb.activities[i]] for i in rows], dtype=np.int64)


def evaluate(
    model: nn.Module,
    input_spec: ModelInputSpec,
    data: Data,
    config: EvalConfig | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    checkpoint: Mapping[str, Any] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Evaluate a model on a held-out split: retrieval, zero-shot, linear probe, fine-tune.

    Args:
        model: the multi-modal model (its ``"imu"`` encoder is required; ``"text"`` for
            zero-shot; ``"video"`` and ``"mocap"`` join retrieval when present).
        input_spec: what the IMU encoder consumes (rate, window, normalisation).
        data: a corpus directory, or samples from any loader (their ``split`` fields say
            which is which).
        config: splits, windows, budgets (see :class:`EvalConfig`).
        out_dir: write ``eval.json``, ``report.md`` and confusion PNGs here.
        checkpoint: provenance of the weights (path, sha256, training config...).
        command: the command line that produced this evaluation (for the report).

    Returns:
        The evaluation as a JSON-able dict (the content of ``eval.json``).

    Raises:
        ConfigError: the model has no IMU encoder, or the split has no usable window.
        CorpusError: the corpus or the split does not exist.
    """
    cfg = config or EvalConfig()
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    timing: dict[str, float] = {}
    encs = getattr(model, "encoders", {})
    mods = [m for m in ("imu", "text", "video", "mocap") if m in encs
            and (cfg.modalities is None or m in cfg.modalities or m == "imu")]

    def windows(split: str, modalities: Sequence[str], stats: WindowStats) -> Iterator[EvalWindow]:
        return eval_windows(_samples(data, split, modalities), input_spec, hop_s=cfg.hop_s,
                            location=cfg.imu_location, modalities=modalities, stats=stats)

    stats = WindowStats()
    emb = embed_windows(model, windows(cfg.split, mods, stats), modalities=mods,
                        batch_size=cfg.batch_size, keep_imu=cfg.finetune)
    timing["embed_eval"] = time.perf_counter() - t_start
    if len(emb) == 0:
        raise ConfigError(f"split {cfg.split!r} gave no usable window (dropped: "
                          f"{stats.dropped}); check the split name and the IMU location")
    have = [m for m in mods if emb.present[m].any()]

    t = time.perf_counter()
    caption_ids: dict[str, int] = {}
    text_ids = np.array([caption_ids.setdefault(x, len(caption_ids)) if x is not None else -1
                         for x in emb.texts])
    retrieval = cross_modal_retrieval({m: emb.embeddings[m] for m in have},
                                      ids={"text": text_ids}, present=emb.present, ks=cfg.ks)
    timing["retrieval"] = time.perf_counter() - t

    eval_acts = sorted(set(emb.activities))
    seen: set[str] | None = None
    if cfg.seen_activities is not None:
        seen = set(cfg.seen_activities)
    elif _has_split(data, cfg.train_split):
        seen = _split_activities(data, cfg.train_split)
    groups = {"seen": [a for a in eval_acts if seen is not None and a in seen],
              "held_out": [a for a in eval_acts if seen is not None and a not in seen],
              "all": eval_acts}
    zero_shot: dict[str, Any] = {}
    t = time.perf_counter()
    for name, labels in groups.items():
        if seen is None and name != "all":
            zero_shot[name] = {"skipped": f"the data has no {cfg.train_split!r} split and no "
                               "seen_activities were given, so seen vs held out is unknown"}
        elif "text" not in mods:
            zero_shot[name] = {"skipped": "the model has no text encoder"}
        elif not labels:
            zero_shot[name] = {"skipped": f"no {name.replace('_', ' ')} activity in the split"}
        else:
            zero_shot[name] = _zero_shot(model, emb, labels, name, cfg.prompts, out)
    timing["zero_shot"] = time.perf_counter() - t

    probe: dict[str, Any] = {"skipped": "disabled (--no-probe)"}
    finetune: dict[str, Any] = {"skipped": "disabled (--no-finetune)"}
    train_stats = WindowStats()
    if cfg.linear_probe or cfg.finetune:
        if not _has_split(data, cfg.train_split):
            reason = f"the data has no {cfg.train_split!r} split to learn from"
            probe = probe if not cfg.linear_probe else {"skipped": reason}
            finetune = finetune if not cfg.finetune else {"skipped": reason}
        else:
            t = time.perf_counter()
            kept, n_train_windows = _reservoir(
                windows(cfg.train_split, ["imu"], train_stats), cfg.max_train_windows,
                cfg.seed)
            train = embed_windows(model, kept, modalities=["imu"], batch_size=cfg.batch_size,
                                  keep_imu=cfg.finetune)
            timing["embed_train"] = time.perf_counter() - t
            labels = sorted(set(train.activities))
            tr_rows, tr_y = _labelled(train, labels)
            te_rows, te_y = _labelled(emb, labels)
            reason = ("needs two trained activities or more" if len(labels) < 2 else
                      "no window of the evaluated split has a trained activity"
                      if not te_rows else "")
            common = {"train_windows_available": n_train_windows, "train_windows": len(kept)}
            if cfg.linear_probe:
                t = time.perf_counter()
                probe = {"skipped": reason} if reason else {**linear_probe(
                    train.embeddings["imu"][tr_rows], tr_y, emb.embeddings["imu"][te_rows],
                    te_y, labels, l2=cfg.probe_l2).as_dict(), **common}
                timing["linear_probe"] = time.perf_counter() - t
            if cfg.finetune and train.imu_inputs is not None and emb.imu_inputs is not None:
                t = time.perf_counter()
                finetune = {"skipped": reason} if reason else {**finetune_transfer(
                    encs["imu"], train.imu_inputs[tr_rows], tr_y, emb.imu_inputs[te_rows],
                    te_y, labels, cfg.finetune_config).as_dict(), **common}
                timing["finetune"] = time.perf_counter() - t
    for name, res in (("probe", probe), ("finetune", finetune)):
        if out is not None and "confusion" in res:
            png = plot_confusion(res["confusion"], res["labels"], out / f"confusion_{name}.png",
                                 title=f"{name.replace('probe', 'linear probe')}, seen "
                                 "activities")
            res["confusion_png"] = png.name
    timing["total"] = time.perf_counter() - t_start

    result: dict[str, Any] = {
        "format": EVAL_FORMAT, "version": EVAL_VERSION,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "checkpoint": dict(checkpoint or {}),
        "model": model_summary(model),
        "input_spec": input_spec.model_dump(mode="json"),
        "data": {**data_provenance(data), "split": cfg.split, "train_split": cfg.train_split,
                 "clips": stats.clips, "windows": len(emb), "dropped": stats.dropped,
                 "missing": stats.missing, "modalities": have,
                 "activities": {a: int(sum(1 for x in emb.activities if x == a))
                                for a in eval_acts},
                 "seen_activities": groups["seen"], "held_out_activities_evaluated":
                 groups["held_out"], "train_dropped": train_stats.dropped},
        "settings": {**cfg.model_dump(mode="json"), "window_s": input_spec.window_s,
                     "prompt_split": cfg.prompts,
                     "prompt_templates": list(PROMPT_TEMPLATES[cfg.prompts])},
        "retrieval": {k: v.as_dict() for k, v in retrieval.items()},
        "zero_shot": zero_shot,
        "linear_probe": probe,
        "finetune": finetune,
        "timing_s": timing,
        "environment": _environment(model),
    }
    if out is not None:
        write_report(result, out)
    return result
