"""Zero-shot classification from embeddings and label prototypes, and its metrics (numpy).

A label's prototype is the mean of the L2-normalised embeddings of its prompts, normalised
again (STYLE.md rule 8); a window is assigned the label whose prototype is nearest in cosine.
Metrics follow the usual definitions: accuracy, per-class precision / recall / F1 (0 where
undefined), macro-F1 averaged over the classes that occur in the truth or the predictions
(scikit-learn's default), and a confusion matrix with true classes on the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aura_sdk import ConfigError
from aura_sdk.live import cosine_similarities

__all__ = [
    "ClassificationMetrics",
    "classification_metrics",
    "confusion_matrix",
    "label_prototypes",
    "zero_shot_predict",
    "zero_shot_scores",
]


def _unit(x: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), 1e-12)


def label_prototypes(prompt_embeddings: Sequence[ArrayLike]) -> NDArray[np.float64]:
    """One unit prototype per label from the embeddings of its prompts.

    Args:
        prompt_embeddings: per label, a ``(n_prompts, dim)`` matrix (the count may differ
            between labels).

    Returns:
        ``(n_labels, dim)``: normalise each prompt embedding, average, normalise again.

    Raises:
        ConfigError: no labels, a label without prompts, or mixed widths.
    """
    if len(prompt_embeddings) == 0:
        raise ConfigError("label_prototypes needs at least one label")
    out = []
    for i, e in enumerate(prompt_embeddings):
        a = np.asarray(e, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] == 0:
            raise ConfigError(f"label {i}: prompt embeddings must be (n_prompts >= 1, dim), "
                              f"got {a.shape}")
        out.append(_unit(_unit(a).mean(axis=0)))
    widths = {p.shape[0] for p in out}
    if len(widths) != 1:
        raise ConfigError(f"prompt embeddings of different widths {sorted(widths)}")
    return np.stack(out)


def zero_shot_scores(embeddings: ArrayLike, prototypes: ArrayLike) -> NDArray[np.float64]:
    """``(n, n_labels)`` cosine similarity of each embedding to each prototype (both
    normalised), computed by the device's scorer (:func:`aura_sdk.live.cosine_similarities`).

    Raises:
        ConfigError: the widths differ.
    """
    x = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
    p = np.atleast_2d(np.asarray(prototypes, dtype=np.float64))
    if x.shape[1] != p.shape[1]:
        raise ConfigError(f"embeddings are {x.shape[1]}-d but prototypes {p.shape[1]}-d")
    return cosine_similarities(x, _unit(p))


def zero_shot_predict(embeddings: ArrayLike, prototypes: ArrayLike) -> NDArray[np.int64]:
    """Index of the nearest prototype for each embedding (ties go to the lower index): the
    label the device's scorer ranks first, its softmax being monotone in cosine whatever
    the temperature (closed-set: nothing is rejected as unknown)."""
    return np.argmax(zero_shot_scores(embeddings, prototypes), axis=1).astype(np.int64)


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> NDArray[np.int64]:
    """Counts ``C[t, p]`` of windows of true class ``t`` predicted as ``p``.

    Raises:
        ConfigError: lengths differ or a label index is outside ``0 .. n_classes - 1``.
    """
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.shape != p.shape:
        raise ConfigError(f"y_true has {t.size} labels but y_pred {p.size}")
    for name, v in (("y_true", t), ("y_pred", p)):
        if v.size and (v.min() < 0 or v.max() >= n_classes):
            raise ConfigError(f"{name} holds class indices outside 0..{n_classes - 1}")
    c = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(c, (t, p), 1)
    return c


@dataclass(frozen=True, eq=False)
class ClassificationMetrics:
    """Classification quality over a fixed list of labels.

    Attributes:
        labels: class names; index ``i`` of every array below is ``labels[i]``.
        accuracy: fraction of windows predicted correctly.
        macro_f1: mean F1 over the classes present in the truth or the predictions.
        precision, recall, f1: per class (0 where the denominator is 0).
        support: true windows per class.
        confusion: ``(C, C)`` counts, true class on rows, predicted on columns.
    """

    labels: tuple[str, ...]
    accuracy: float
    macro_f1: float
    precision: NDArray[np.float64]
    recall: NDArray[np.float64]
    f1: NDArray[np.float64]
    support: NDArray[np.int64]
    confusion: NDArray[np.int64]

    @property
    def n(self) -> int:
        """Number of windows scored."""
        return int(self.support.sum())

    def as_dict(self) -> dict[str, object]:
        """JSON form, with per-class numbers keyed by label and the confusion matrix."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "chance": 1.0 / len(self.labels),
            "labels": list(self.labels),
            "per_class": {
                lab: {"precision": float(self.precision[i]), "recall": float(self.recall[i]),
                      "f1": float(self.f1[i]), "support": int(self.support[i]),
                      "predicted": int(self.confusion[:, i].sum())}
                for i, lab in enumerate(self.labels)
            },
            "confusion": self.confusion.tolist(),
        }


def classification_metrics(y_true: ArrayLike, y_pred: ArrayLike,
                           labels: Sequence[str]) -> ClassificationMetrics:
    """Accuracy, per-class and macro F1, and the confusion matrix.

    Args:
        y_true, y_pred: class indices into ``labels``.
        labels: the class names (candidates of the classifier).

    Returns:
        The metrics.

    Raises:
        ConfigError: no windows, no labels, or indices out of range.
    """
    if not labels:
        raise ConfigError("classification_metrics needs at least one label")
    c = confusion_matrix(y_true, y_pred, len(labels))
    total = int(c.sum())
    if total == 0:
        raise ConfigError("no windows to score")
    tp = np.diag(c).astype(np.float64)
    support = c.sum(axis=1)
    predicted = c.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = (support > 0) | (predicted > 0)
    return ClassificationMetrics(
        labels=tuple(labels), accuracy=float(tp.sum() / total),
        macro_f1=float(f1[present].mean()), precision=precision, recall=recall, f1=f1,
        support=support, confusion=c,
    )
