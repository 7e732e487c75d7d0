"""Embedding evaluation windows and label prompts with a trained model (torch)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from aura_sdk import ConfigError
from aura_sdk.bundle import EncoderSpec

from ..text import Split, label_prompts
from ._classify import label_prototypes
from ._inputs import EvalWindow

__all__ = ["EmbeddedWindows", "embed_labels", "embed_windows", "model_device"]

logger = logging.getLogger(__name__)

_MODALITIES = ("imu", "text", "video", "mocap")


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _encoders(model: nn.Module) -> dict[str, nn.Module]:
    encs = getattr(model, "encoders", None)
    if not isinstance(encs, nn.ModuleDict) or "imu" not in encs:
        raise ConfigError("the model must be a MultiModalEncoder with an 'imu' encoder")
    return {name: encs[name] for name in _MODALITIES if name in encs}


@dataclass
class EmbeddedWindows:
    """Embeddings of a list of windows, per modality, with the windows' labels.

    Attributes:
        clip_ids, starts, activities, texts: one entry per window.
        embeddings: modality -> ``(n, dim)`` float32; rows of windows that lack the
            modality are zero and ``present[modality]`` is false there.
        present: modality -> ``(n,)`` bool.
        imu_inputs: ``(n, window_samples, 6)`` float32 model inputs, when kept.
    """

    clip_ids: list[str] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    embeddings: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    present: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    imu_inputs: NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return len(self.clip_ids)


def _run(enc: nn.Module, batch: Any, device: torch.device,
         items: list[EvalWindow] | None = None) -> NDArray[np.float32]:
    if isinstance(batch, torch.Tensor):
        batch = batch.to(device)
    if items is not None and getattr(enc, "uses_placement", False):
        # the windows' placements, as the bundle's second input would get them
        known: tuple[str, ...] = tuple(getattr(enc.config, "placements", ()))
        ids = torch.tensor([EncoderSpec.placement_index(known, w.placement) for w in items],
                           dtype=torch.long, device=device)
        out = enc(batch, ids)
    else:
        out = enc(batch)
    return out.detach().float().cpu().numpy()


def _modality_batch(name: str, items: list[EvalWindow]) -> tuple[list[int], Any]:
    """Row indices within ``items`` that have ``name``, and their stacked input."""
    if name == "imu":
        return list(range(len(items))), torch.from_numpy(np.stack([w.imu for w in items]))
    values = [getattr(w, name) for w in items]
    rows = [i for i, v in enumerate(values) if v is not None]
    if not rows:
        return rows, None
    if name == "text":
        return rows, [values[i] for i in rows]
    shapes = {values[i].shape for i in rows}
    if len(shapes) != 1:
        raise ConfigError(f"{name} windows of different shapes {sorted(shapes)} in one batch")
    return rows, torch.from_numpy(np.stack([values[i] for i in rows]))


@torch.no_grad()
def embed_windows(
    model: nn.Module,
    windows: Iterable[EvalWindow],
    *,
    modalities: Sequence[str] | None = None,
    batch_size: int = 64,
    keep_imu: bool = False,
) -> EmbeddedWindows:
    """Embed windows with every modality the model has an encoder for (eval mode).

    Args:
        model: a :class:`~aura_training.models.MultiModalEncoder` (or anything with an
            ``encoders`` ModuleDict holding ``"imu"``).
        windows: the windows (streamed; only embeddings are kept).
        modalities: restrict to these (default: every encoder the model has).
        batch_size: windows per forward pass.
        keep_imu: also keep the IMU model inputs (for fine-tuning).

    Returns:
        The embeddings, aligned across modalities by window.

    Raises:
        ConfigError: the model has no IMU encoder.
    """
    encs = _encoders(model)
    names = [m for m in encs if modalities is None or m in modalities]
    if "imu" not in names:
        names.insert(0, "imu")
    device = model_device(model)
    was_training = model.training
    model.eval()
    out = EmbeddedWindows()
    chunks: dict[str, list[NDArray[np.float32]]] = {m: [] for m in names}
    masks: dict[str, list[NDArray[np.bool_]]] = {m: [] for m in names}
    imu_keep: list[NDArray[np.float32]] = []
    dim = int(getattr(model, "embed_dim", 0))
    if dim < 1:
        raise ConfigError("the model must say its embed_dim (MultiModalEncoder does)")

    def flush(items: list[EvalWindow]) -> None:
        for name in names:
            rows, batch = _modality_batch(name, items)
            mask = np.zeros(len(items), dtype=bool)
            mask[rows] = True
            emb = np.zeros((len(items), dim), dtype=np.float32)
            if rows:
                emb[rows] = _run(encs[name], batch, device,
                                 items if name == "imu" else None)
            chunks[name].append(emb)
            masks[name].append(mask)
        if keep_imu:
            imu_keep.append(np.stack([w.imu for w in items]))
        for w in items:
            out.clip_ids.append(w.clip_id)
            out.starts.append(w.start_s)
            out.activities.append(w.activity)
            out.texts.append(w.text)

    try:
        pending: list[EvalWindow] = []
        for w in windows:
            pending.append(w)
            if len(pending) == batch_size:
                flush(pending)
                pending = []
        if pending:
            flush(pending)
    finally:
        model.train(was_training)
    for name in names:
        out.embeddings[name] = (np.concatenate(chunks[name]) if chunks[name]
                                else np.zeros((0, dim), np.float32))
        out.present[name] = (np.concatenate(masks[name]) if masks[name]
                             else np.zeros(0, dtype=bool))
    if keep_imu:
        out.imu_inputs = (np.concatenate(imu_keep) if imu_keep
                          else np.zeros((0, 0, 6), np.float32))
    logger.info("embedded %d windows (%s)", len(out), ", ".join(
        f"{m} {int(out.present[m].sum())}" for m in names))
    return out


@torch.no_grad()
def embed_labels(model: nn.Module, labels: Sequence[str], split: Split = "test",
                 ) -> tuple[NDArray[np.float64], dict[str, list[str]]]:
    """Zero-shot prototypes of ``labels`` through the model's text encoder.

    Args:
        model: a model with a ``"text"`` encoder.
        labels: activity labels.
        split: prompt template set (``"test"``: the held-out templates).

    Returns:
        ``(n_labels, dim)`` unit prototypes (mean of normalised prompt embeddings,
        renormalised) and the prompts used per label.

    Raises:
        ConfigError: the model has no text encoder.
    """
    encs = _encoders(model)
    if "text" not in encs:
        raise ConfigError("zero-shot classification needs a text encoder in the model")
    enc = encs["text"]
    was_training = enc.training
    enc.eval()
    try:
        prompts = {lab: label_prompts(lab, split) for lab in labels}
        embs = [enc(p).detach().float().cpu().numpy() for p in prompts.values()]
    finally:
        enc.train(was_training)
    return label_prototypes(embs), prompts
