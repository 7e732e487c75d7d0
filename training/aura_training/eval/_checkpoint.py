"""Evaluating a training checkpoint: load it with the trainer's API, record its provenance."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import torch

from ..corpus import CorpusError, load_manifest
from ._runner import Data, EvalConfig, evaluate

__all__ = ["checkpoint_provenance", "evaluate_checkpoint"]

logger = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checkpoint_provenance(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Where a checkpoint's weights came from: its directory, step, hash and run config.

    Raises:
        ConfigError: no readable checkpoint at ``path``.
    """
    from ..train import read_checkpoint

    ck = read_checkpoint(path)
    weights = ck.path / "model.safetensors"
    cfg = ck.config
    return {
        "path": str(ck.path), "requested": str(path), "step": ck.step,
        "sha256": _sha256(weights), "run": cfg.name, "seed": cfg.seed,
        "modalities": list(cfg.model), "loss_pairs": dict(cfg.loss.pairs),
        "temperature": ck.temperature, "train_data": str(cfg.data.dir),
        "train_config": cfg.model_dump(mode="json"), **_throughput(ck.state),
    }


def _throughput(state: Any) -> dict[str, float]:
    """Training time and samples per second of optimiser work, from the checkpoint state
    (``elapsed_s`` sums step times only: no synthesis, text embedding or evaluation)."""
    seconds, samples = state.get("elapsed_s"), state.get("samples_seen")
    if not seconds or not samples:
        return {}
    return {"train_seconds": float(seconds), "train_samples": float(samples),
            "train_samples_per_s": float(samples) / float(seconds)}


def evaluate_checkpoint(
    checkpoint: str | os.PathLike[str],
    data: Data,
    config: EvalConfig | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    command: str | None = None,
) -> dict[str, Any]:
    """Load a checkpoint with :func:`aura_training.train.load_checkpoint` and evaluate it.

    Defaults are taken from the run where the caller gave none: the IMU location is the
    first stream the run trained on (``data.locations``), and when the evaluated data is
    not the run's own corpus, the "seen" activities are those of the run's training split
    (read from its corpus manifest, if that is on disk).

    Args:
        checkpoint: a run directory, its ``checkpoints`` folder or one ``step-*`` folder.
        data: a corpus directory or loader samples (see :func:`evaluate`).
        config: what to compute (see :class:`EvalConfig`).
        out_dir: where to write ``eval.json``, ``report.md`` and the figures.
        device: where to run the model.
        command: the command line, for the report.

    Returns:
        The evaluation dict (see :func:`evaluate`).

    Raises:
        ConfigError: no readable checkpoint, or nothing to evaluate.
        CorpusError: the data's corpus or split does not exist.
    """
    from ..train import load_checkpoint

    provenance = checkpoint_provenance(checkpoint)
    model, train_cfg, spec = load_checkpoint(checkpoint, device=device)
    cfg = config or EvalConfig()
    updates: dict[str, Any] = {}
    if cfg.imu_location is None and train_cfg.data.locations:
        updates["imu_location"] = train_cfg.data.locations[0]
    own = isinstance(data, str | os.PathLike) and (
        Path(data).resolve() == Path(train_cfg.data.dir).resolve())
    if cfg.seen_activities is None and not own:
        try:
            split = load_manifest(train_cfg.data.dir).splits.get(train_cfg.data.train_split)
        except CorpusError:
            split = None
            logger.warning("the run's corpus %s is not readable: seen activities come from "
                           "the evaluated data's own %r split", train_cfg.data.dir,
                           cfg.train_split)
        if split is not None:
            updates["seen_activities"] = tuple(sorted(split.activities))
    if updates:
        cfg = cfg.model_copy(update=updates)
    return evaluate(model, spec, data, cfg, out_dir=out_dir, checkpoint=provenance,
                    command=command)
