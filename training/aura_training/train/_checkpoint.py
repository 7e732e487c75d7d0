"""Checkpoints: safetensors for tensors, JSON for the rest, written atomically. No pickle.

Layout of a run's output directory::

    <out_dir>/checkpoints/
        latest.json                  {"step": 1200, "path": "step-00001200"}
        step-00001200/
            model.safetensors        MultiModalEncoder state dict + "logit_scale"
            optimizer.safetensors    AdamW moments by parameter name ("<name>::exp_avg", ...)
            config.json              the TrainConfig
            input_spec.json          the ModelInputSpec (with the normalisation statistics)
            state.json               step, data positions of every rank, RNG states, scaler,
                                     last metrics, versions

A checkpoint is written into a hidden temporary directory, every file flushed to disk, and
the directory renamed into place in one step; ``latest.json`` is then replaced atomically.
A crash at any point leaves the previous checkpoint complete and ``latest.json`` pointing at
a complete one (a leftover temporary directory is ignored and removed by the next save).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from aura_sdk import ConfigError, ModelInputSpec

from ..models import MultiModalEncoder
from ._config import TrainConfig

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "find_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "slim_checkpoint",
]

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "aura-train-checkpoint"
CHECKPOINT_VERSION = 1
_STEP_DIR = re.compile(r"^step-(\d+)$")


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint on disk, its JSON parts read and validated (tensors not loaded).

    Attributes:
        path: the ``step-*`` directory.
        step: optimiser steps done.
        config: the run's config.
        input_spec: the model input, with its statistics.
        state: the rest of ``state.json`` (data positions, RNG states, metrics).
    """

    path: Path
    step: int
    config: TrainConfig
    input_spec: ModelInputSpec
    state: Mapping[str, Any]

    def model_tensors(self, device: str | torch.device = "cpu") -> dict[str, Tensor]:
        """The tensors of ``model.safetensors``."""
        from safetensors.torch import load_file

        return load_file(str(self.path / "model.safetensors"), device=str(device))

    def optimizer_tensors(self, device: str | torch.device = "cpu") -> dict[str, Tensor]:
        """The tensors of ``optimizer.safetensors``."""
        from safetensors.torch import load_file

        return load_file(str(self.path / "optimizer.safetensors"), device=str(device))

    def build_model(self, device: str | torch.device = "cpu") -> MultiModalEncoder:
        """The trained encoders (every trained modality), in eval mode."""
        model = build_model(self.config)
        state = self.model_tensors(device)
        state.pop("logit_scale", None)
        model.load_state_dict(state, strict=True)
        return model.to(device).eval()

    @property
    def temperature(self) -> float:
        """The learned temperature of the contrastive loss at this step."""
        return float(torch.exp(-self.model_tensors()["logit_scale"]).item())


def build_model(config: TrainConfig) -> MultiModalEncoder:
    """A fresh MultiModalEncoder with one encoder per trained modality (seed torch first)."""
    return MultiModalEncoder.from_configs({m: config.model[m] for m in config.modalities})


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode("utf-8")


def save_checkpoint(
    out_dir: str | os.PathLike[str],
    step: int,
    *,
    model: nn.Module,
    logit_scale: Tensor,
    optimizer_state: Mapping[str, Tensor],
    config: TrainConfig,
    input_spec: ModelInputSpec,
    state: Mapping[str, Any],
    keep: int = 2,
) -> Path:
    """Write a checkpoint atomically and point ``latest.json`` at it.

    Args:
        out_dir: the run's output directory.
        step: optimiser steps done.
        model: the MultiModalEncoder (unwrapped).
        logit_scale: the loss's temperature parameter.
        optimizer_state: flat name -> tensor optimiser state.
        config, input_spec: the run's config and model input.
        state: JSON-able rest (data positions, RNG states, metrics).
        keep: how many ``step-*`` directories to keep.

    Returns:
        The checkpoint directory.
    """
    from safetensors.torch import save

    root = Path(out_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:08d}"
    tmp = root / f".tmp-{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    tensors["logit_scale"] = logit_scale.detach().to("cpu").reshape(()).contiguous()
    meta = {"format": CHECKPOINT_FORMAT, "version": str(CHECKPOINT_VERSION), "step": str(step)}
    _fsync_write(tmp / "model.safetensors", save(tensors, metadata=meta))
    optim = {k: v.detach().to("cpu").contiguous() for k, v in optimizer_state.items()}
    _fsync_write(tmp / "optimizer.safetensors", save(optim, metadata=meta))
    _fsync_write(tmp / "config.json", _json_bytes(config.model_dump(mode="json")))
    _fsync_write(tmp / "input_spec.json", _json_bytes(input_spec.model_dump(mode="json")))
    full = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "step": step,
            "torch": torch.__version__, **state}
    _fsync_write(tmp / "state.json", _json_bytes(full))
    _fsync_dir(tmp)
    final = root / name
    if final.exists():  # a resumed run passing the same step again: replace it
        old = root / f".old-{name}-{os.getpid()}"
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(final)
    _fsync_dir(root)
    latest_tmp = root / f".latest-{os.getpid()}.json"
    _fsync_write(latest_tmp, _json_bytes({"step": step, "path": name}))
    os.replace(latest_tmp, root / "latest.json")
    _fsync_dir(root)
    _prune(root, keep, protect=name)
    return final


def _prune(root: Path, keep: int, protect: str) -> None:
    steps = sorted(((int(m.group(1)), p) for p in root.iterdir()
                    if (m := _STEP_DIR.match(p.name)) and p.is_dir()), reverse=True)
    for _, p in steps[keep:]:
        if p.name != protect:
            shutil.rmtree(p, ignore_errors=True)
    for p in root.iterdir():
        if p.name.startswith((".tmp-", ".old-")):  # left by a crash: never complete
            shutil.rmtree(p, ignore_errors=True)


def _complete(path: Path) -> bool:
    return all((path / f).is_file() for f in (
        "model.safetensors", "optimizer.safetensors", "config.json", "input_spec.json",
        "state.json"))


def find_checkpoint(path: str | os.PathLike[str]) -> Path | None:
    """Resolve a checkpoint directory, a ``checkpoints`` folder or a run directory.

    Returns:
        The newest complete checkpoint directory (by ``latest.json``, else the highest
        ``step-*``), or ``None`` if there is none.
    """
    p = Path(path)
    if _complete(p):
        return p
    root = p / "checkpoints" if (p / "checkpoints").is_dir() else p
    if not root.is_dir():
        return None
    latest = root / "latest.json"
    if latest.is_file():
        try:
            cand = root / str(json.loads(latest.read_text())["path"])
            if _complete(cand):
                return cand
        except (ValueError, KeyError, OSError):
            logger.warning("ignoring unreadable %s", latest)
    steps = sorted(((int(m.group(1)), d) for d in root.iterdir()
                    if (m := _STEP_DIR.match(d.name)) and _complete(d)), reverse=True)
    return steps[0][1] if steps else None


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint's config, input spec and state (see :func:`find_checkpoint`).

    Raises:
        ConfigError: no complete checkpoint there, or its files are not a checkpoint of a
            version this code reads.
    """
    found = find_checkpoint(path)
    if found is None:
        raise ConfigError(f"no complete training checkpoint at {path}; pass a run directory "
                          "or a checkpoints/step-* directory")
    try:
        state = json.loads((found / "state.json").read_text(encoding="utf-8"))
        if state.get("format") != CHECKPOINT_FORMAT or state.get("version") != (
                CHECKPOINT_VERSION):
            raise ConfigError(f"{found / 'state.json'} is not a version-{CHECKPOINT_VERSION} "
                              "AURA training checkpoint")
        config = TrainConfig.model_validate_json((found / "config.json").read_text("utf-8"))
        spec = ModelInputSpec.model_validate_json(
            (found / "input_spec.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the checkpoint {found}: {exc}") from exc
    return Checkpoint(path=found, step=int(state["step"]), config=config, input_spec=spec,
                      state=state)


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    imu_only: bool = False,
    device: str | torch.device = "cpu",
) -> tuple[nn.Module, TrainConfig, ModelInputSpec]:
    """Load trained encoders for evaluation or export.

    Args:
        path: a run directory, its ``checkpoints`` folder, or one ``step-*`` directory
            (the newest complete checkpoint is taken).
        imu_only: return only the IMU encoder instead of the whole MultiModalEncoder.
        device: where to put the weights.

    Returns:
        ``(model, config, input_spec)``: the :class:`~aura_training.models.MultiModalEncoder`
        (or its IMU encoder) in eval mode, the run's :class:`TrainConfig`, and the
        :class:`aura_sdk.ModelInputSpec` (rate, window, gravity convention, normalisation
        statistics) the IMU encoder expects its windows in.

    Raises:
        ConfigError: no readable checkpoint at ``path``.
    """
    ckpt = read_checkpoint(path)
    model = ckpt.build_model(device)
    out: nn.Module = model.encoders["imu"] if imu_only else model
    return out, ckpt.config, ckpt.input_spec


def slim_checkpoint(src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
                    keep: tuple[str, ...] = ("imu", "text")) -> Path:
    """Write a checkpoint holding only the ``keep`` encoders, for shipping and fine-tuning.

    The result is a complete checkpoint (:func:`load_checkpoint` and ``init_from`` /
    ``distill.teacher`` read it): the kept encoders' weights and the temperature, the
    input spec, an empty optimiser state, and the config reduced to the kept modalities
    (loss pairs of the dropped ones removed). ``state.json`` records the original run,
    step, metrics and training time.

    Raises:
        ConfigError: no checkpoint at ``src``, or ``keep`` lacks ``"imu"``.
    """
    from safetensors.torch import save

    if "imu" not in keep:
        raise ConfigError("a slim checkpoint must keep the IMU encoder")
    ck = read_checkpoint(src)
    cfg = ck.config
    mods = [m for m in cfg.model if m in keep and m in cfg.modalities]
    pairs = {m: w for m, w in cfg.loss.pairs.items() if m in mods}
    if not pairs:
        raise ConfigError(f"{ck.path} trained none of {list(keep)} against the IMU")
    slim_cfg = cfg.model_copy(update={
        "model": {m: cfg.model[m] for m in mods},
        "loss": cfg.loss.model_copy(update={"pairs": pairs})})
    tensors = {k: v for k, v in ck.model_tensors().items()
               if k == "logit_scale" or k.split(".")[1] in mods}
    out = Path(dst)
    tmp = out.with_name(f".tmp-{out.name}-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    meta = {"format": CHECKPOINT_FORMAT, "version": str(CHECKPOINT_VERSION),
            "step": str(ck.step)}
    _fsync_write(tmp / "model.safetensors", save(tensors, metadata=meta))
    _fsync_write(tmp / "optimizer.safetensors", save({}, metadata=meta))
    _fsync_write(tmp / "config.json", _json_bytes(slim_cfg.model_dump(mode="json")))
    _fsync_write(tmp / "input_spec.json", _json_bytes(ck.input_spec.model_dump(mode="json")))
    keep_state = {k: ck.state[k] for k in ("elapsed_s", "samples_seen", "metrics", "torch")
                  if k in ck.state}
    state = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "step": ck.step,
             **keep_state, "slim": {"from": str(ck.path), "kept": mods,
                                    "dropped": [m for m in cfg.model if m not in mods]}}
    _fsync_write(tmp / "state.json", _json_bytes(state))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out
