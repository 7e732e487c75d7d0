"""The few-shot head: softmax regression over the enrolled labels' window features.

Every example weighs the same, however many windows and views it yields, and the L2 strength
scales with the number of examples (``l2 = 1 / (C * examples)``), so one long recording does
not outvote four short ones and one example is not overfit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._errors import ConfigError
from ._head import LogisticHead
from ._store import EnrolledLabel

__all__ = ["DEFAULT_C", "FewShotHead"]

F64 = npt.NDArray[np.float64]
#: Inverse regularisation strength per example (measured on the HAPT development set with
#: `aura eval --real hapt`; docs/results.md).
DEFAULT_C = 1.0


@dataclass(frozen=True)
class FewShotHead:
    """A fitted head over ``labels`` (in that order)."""

    labels: tuple[str, ...]
    head: LogisticHead

    @classmethod
    def fit(cls, records: Sequence[EnrolledLabel], *, c: float = DEFAULT_C) -> FewShotHead:
        """Fit on the windows of two or more enrolled labels.

        Raises:
            ConfigError: fewer than two labels, or their feature widths differ.
        """
        if len(records) < 2:
            raise ConfigError("a few-shot head needs at least two enrolled labels")
        widths = {r.features.shape[1] for r in records}
        if len(widths) != 1:
            raise ConfigError(f"enrolled labels have different feature widths {sorted(widths)}; "
                              "enroll them again with this model")
        xs, ys, ws = [], [], []
        n_examples = 0
        for k, rec in enumerate(records):
            xs.append(rec.features)
            ys.append(np.full(len(rec.features), k))
            counts = np.bincount(rec.example, minlength=rec.n_examples)
            ws.append(1.0 / counts[rec.example])
            n_examples += rec.n_examples
        if c <= 0:
            raise ConfigError(f"C must be > 0, got {c}")
        head = LogisticHead.fit(np.concatenate(xs), np.concatenate(ys), len(records),
                                l2=1.0 / (c * n_examples), sample_weight=np.concatenate(ws))
        return cls(tuple(r.label for r in records), head)

    def log_proba(self, features: npt.ArrayLike) -> F64:
        """``(N, K)`` log probabilities of the head's labels for window feature rows."""
        return self.head.log_proba(features)
