"""Zero-shot metrics on embeddings: nearest prototype, accuracy, macro-F1, agreement (numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aura_sdk import ConfigError
from aura_sdk.bundle import Prototypes
from aura_sdk.live import cosine_similarities

__all__ = ["ZeroShotMetrics", "cosine_rows", "zero_shot_metrics"]


def _unit(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    return a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)


def cosine_rows(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Cosine similarity of each row of ``a`` with the same row of ``b``.

    Raises:
        ConfigError: the shapes differ.
    """
    ua, ub = _unit(a), _unit(b)
    if ua.shape != ub.shape:
        raise ConfigError(f"cannot compare embeddings of shapes {ua.shape} and {ub.shape}")
    return np.sum(ua * ub, axis=-1)


@dataclass(frozen=True)
class ZeroShotMetrics:
    """Nearest-prototype classification of labelled windows.

    Attributes:
        accuracy: fraction of windows whose nearest prototype is their label.
        macro_f1: F1 averaged over the classes present in the truth or the predictions
            (scikit-learn's default; an undefined precision or recall counts as 0).
        n: windows scored (those whose label has a prototype).
        predictions: predicted label index per scored window.
    """

    accuracy: float
    macro_f1: float
    n: int
    predictions: npt.NDArray[np.int64]


def zero_shot_metrics(embeddings: npt.ArrayLike, labels: Sequence[str],
                      prototypes: Prototypes) -> ZeroShotMetrics:
    """Classify windows by their nearest prototype among *all* of ``prototypes``' labels.

    Cosine comes from the device's scorer (:func:`aura_sdk.live.cosine_similarities`), and
    the nearest prototype is the label it ranks first (its softmax is monotone in cosine
    whatever the temperature); closed-set: nothing is rejected as unknown. Windows whose
    label has no prototype are left out.

    Raises:
        ConfigError: no window has a label with a prototype, or counts disagree.
    """
    emb = np.asarray(embeddings, dtype=np.float64)
    if emb.ndim != 2 or emb.shape[0] != len(labels):
        raise ConfigError(f"{len(labels)} labels for embeddings of shape {emb.shape}")
    index = {name: i for i, name in enumerate(prototypes.labels)}
    keep = np.array([name in index for name in labels], dtype=bool)
    if not keep.any():
        raise ConfigError(f"none of the window labels {sorted(set(labels))[:8]} has a "
                          "prototype; evaluate with labels the bundle knows")
    truth = np.array([index[name] for name in labels if name in index], dtype=np.int64)
    pred = np.argmax(cosine_similarities(emb[keep], prototypes.embeddings),
                     axis=1).astype(np.int64)
    f1s = []
    for c in np.union1d(truth, pred):
        tp = float(np.sum((pred == c) & (truth == c)))
        fp = float(np.sum((pred == c) & (truth != c)))
        fn = float(np.sum((pred != c) & (truth == c)))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return ZeroShotMetrics(float(np.mean(pred == truth)), float(np.mean(f1s)), int(truth.size),
                           pred)
