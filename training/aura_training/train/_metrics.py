"""Metric sinks of a run (rank 0 only): a CSV file and, when installed, TensorBoard.

``metrics.csv`` has one row per logged step (training columns) or evaluation (``val_*``
columns); a column a row does not have is empty. On resume, rows after the resumed step
(logged by the killed run after its last checkpoint) are dropped first, so the file shows
one continuous curve.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["MetricsLogger", "read_metrics"]

logger = logging.getLogger(__name__)


class MetricsLogger:
    """Append metric rows to ``<out_dir>/metrics.csv`` and TensorBoard.

    Args:
        out_dir: the run directory.
        columns: every column the CSV will have (``step`` first).
        resume_step: drop existing rows with ``step`` greater than this (``None``: start a
            new file).
        tensorboard: write TensorBoard events too if the ``tensorboard`` package is there.
    """

    def __init__(self, out_dir: str | os.PathLike[str], columns: Sequence[str],
                 resume_step: int | None = None, tensorboard: bool = True) -> None:
        self.path = Path(out_dir) / "metrics.csv"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.columns = ["step", *[c for c in columns if c != "step"]]
        kept: list[dict[str, str]] = []
        if resume_step is not None and self.path.is_file():
            kept = [r for r in read_metrics(self.path) if int(float(r["step"])) <= resume_step]
        with open(self.path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, self.columns, extrasaction="ignore")
            w.writeheader()
            w.writerows(kept)
        self._tb: Any = None
        if tensorboard:
            if importlib.util.find_spec("tensorboard") is None:
                logger.info("the tensorboard package is not installed: metrics go to %s only",
                            self.path)
            else:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(Path(out_dir) / "tensorboard"),
                                         purge_step=resume_step)

    def log(self, step: int, values: Mapping[str, float]) -> None:
        """Write one row (keys outside ``columns`` go to TensorBoard only)."""
        row = {"step": step, **{k: f"{v:.6g}" for k, v in values.items()}}
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, self.columns, extrasaction="ignore").writerow(row)
        if self._tb is not None:
            for k, v in values.items():
                self._tb.add_scalar(k.replace("val_", "val/", 1), v, step)

    def close(self) -> None:
        """Flush and close TensorBoard."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a ``metrics.csv`` (empty cells as ``""``)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
