"""Small pieces of the training loop: its result, progress bar, rank summary, RNG encoding."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ._config import TrainConfig
from ._dist import DistInfo

__all__ = ["Progress", "TrainResult", "b64", "run_identity", "unb64", "write_rank_summary"]


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` did.

    Attributes:
        step: optimiser steps done in total.
        losses: ``(step, loss)`` of every step this call ran (step counted from 1).
        eval: the last evaluation's metrics (empty if none ran).
        checkpoint: the last checkpoint written, if any.
        samples_per_s: training throughput over the call (global samples, after the first
            step, which includes start-up).
        seconds: wall time of the call.
    """

    step: int
    losses: list[tuple[int, float]] = field(default_factory=list)
    eval: dict[str, float] = field(default_factory=dict)
    checkpoint: Path | None = None
    samples_per_s: float = 0.0
    seconds: float = 0.0


def run_identity(c: TrainConfig) -> dict[str, Any]:
    """What must not change between a run and its resumption (cadence, paths may)."""
    out = c.model_dump(mode="json", include={"seed", "input", "model", "loss", "augment",
                                             "optim", "batch_size", "grad_accum",
                                             "distill", "init_from"})
    out["data"] = c.data.model_dump(mode="json", exclude={"dir", "num_workers", "text_cache",
                                                          "synth", "synth_workers"})
    return out


def b64(t: Tensor) -> str:
    return base64.b64encode(t.cpu().numpy().tobytes()).decode("ascii")


def unb64(s: str) -> Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(s)), dtype=torch.uint8).clone()


class Progress:
    """A rich progress bar, or nothing."""

    def __init__(self, enabled: bool, start: int, total: int) -> None:
        self._bar: Any = None
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                             TimeRemainingColumn())
        self._bar.start()
        self._task = self._bar.add_task("train", total=total, completed=start, info="")

    def update(self, step: int, m: dict[str, float]) -> None:
        if self._bar is not None:
            info = f"loss {m['loss']:.3f}  T {m['temperature']:.3f}  {m['samples_per_s']:.0f}/s"
            self._bar.update(self._task, completed=step, info=info)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def write_rank_summary(out_dir: Path, d: DistInfo, module: nn.Module,
                       result: TrainResult) -> None:
    """``<out_dir>/ranks/rank-<r>.json``: this rank's losses and a hash of its parameters
    (ranks of a healthy DDP run agree on both)."""
    h = hashlib.sha256()
    for name, p in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    path = out_dir / "ranks" / f"rank-{d.rank}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "rank": d.rank, "world_size": d.world_size, "step": result.step,
        "losses": result.losses, "params_sha256": h.hexdigest(),
        "samples_per_s": result.samples_per_s}, indent=1))
