"""Scores -> decisions: cosine, temperature softmax, temporal smoothing, unknown rejection.

This is the one scoring path: ``AuraModel.classify`` / ``recognize``, ``LiveRecognizer``,
``aura eval --bundle`` and the export's checks and rejection fit all score through
:func:`cosine_similarities` and :class:`Scorer`, so one window gets one answer everywhere.

Smoothers see one probability vector per window of one stream and return the smoothed one:
``average`` is a moving average over the last ``n`` windows; ``hmm`` is the forward pass of a
hidden Markov model whose hidden state is the activity, with a sticky transition matrix
(``stay`` on the diagonal) and the window's probabilities as (scaled) emission likelihoods, so
a label changes only when the evidence for the new one outweighs the cost of switching. Both
are causal: no look-ahead, no added latency.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from ._errors import ConfigError
from .fewshot import FewShotHead

__all__ = ["UNKNOWN", "Decision", "Decisions", "HmmFilter", "MovingAverage", "NoSmoothing",
           "Scorer", "Smoother", "cosine_similarities", "make_smoother"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: The label of a window that matches no prototype well enough.
UNKNOWN = "unknown"

SmoothingName = Literal["none", "average", "hmm"]


class Smoother(Protocol):
    def update(self, p: F64) -> F64: ...
    def reset(self) -> None: ...


class NoSmoothing:
    """Each window on its own."""

    def update(self, p: F64) -> F64:
        return p

    def reset(self) -> None:
        return None


class MovingAverage:
    """Mean of the last ``n`` probability vectors."""

    def __init__(self, n: int = 3) -> None:
        if n < 1:
            raise ConfigError("the moving average needs n >= 1 windows")
        self._buf: deque[F64] = deque(maxlen=n)

    def update(self, p: F64) -> F64:
        self._buf.append(p)
        return np.mean(np.stack(self._buf), axis=0)

    def reset(self) -> None:
        self._buf.clear()


class HmmFilter:
    """Forward-filtered HMM over activities (see module doc).

    Args:
        stay: probability of keeping the activity from one window to the next.
        sharpness: exponent on the window probabilities (below 1 trusts a window less).
    """

    def __init__(self, stay: float = 0.9, sharpness: float = 1.0) -> None:
        if not 0.0 < stay < 1.0:
            raise ConfigError("hmm stay probability must be in (0, 1)")
        self.stay = stay
        self.sharpness = sharpness
        self._alpha: F64 | None = None

    def update(self, p: F64) -> F64:
        k = p.size
        if self._alpha is None or self._alpha.size != k:
            self._alpha = np.full(k, 1.0 / k)
        move = (1.0 - self.stay) / max(k - 1, 1)
        prior = self.stay * self._alpha + move * (1.0 - self._alpha)  # A^T alpha, uniform moves
        post = prior * np.power(np.maximum(p, 1e-12), self.sharpness)
        self._alpha = post / post.sum()
        return self._alpha

    def reset(self) -> None:
        self._alpha = None


def make_smoother(name: SmoothingName, **kw: float) -> Smoother:
    """Build a smoother by name (``"none"``, ``"average"``, ``"hmm"``).

    Raises:
        ConfigError: unknown name or option.
    """
    try:
        if name == "none":
            return NoSmoothing()
        if name == "average":
            return MovingAverage(int(kw.pop("n", 3)), **kw)
        if name == "hmm":
            return HmmFilter(**kw)
    except TypeError as exc:
        raise ConfigError(f"smoothing {name!r}: {exc}") from exc
    raise ConfigError(f"unknown smoothing {name!r}; use 'none', 'average' or 'hmm'")


def cosine_similarities(emb: npt.ArrayLike, prototypes: npt.ArrayLike) -> F64:
    """``(N, K)`` cosine similarities of embeddings to unit prototypes, in float64.

    The embeddings are normalised first; the prototypes are taken as they are (unit vectors,
    as bundles and enrollment store them).
    """
    e = np.atleast_2d(np.asarray(emb, dtype=np.float64))
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    return e @ np.atleast_2d(np.asarray(prototypes, dtype=np.float64)).T


@dataclass(frozen=True, eq=False)
class Decisions:
    """What ``N`` windows amount to, computed at once (:meth:`Scorer.decide_all`).

    Row ``i`` is exactly what :meth:`Scorer.decide` says of window ``i``.

    Attributes:
        best: ``(N,)`` index of the most probable label (before rejection).
        similarity: ``(N,)`` cosine similarity of the window to that label's prototype.
        margin: ``(N,)`` gap from that similarity to the closest rival's (``inf`` when no
            label is a rival).
        unknown: ``(N,)`` whether the window is rejected as unknown.
    """

    best: I64
    similarity: F64
    margin: F64
    unknown: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.best.shape[0])


@dataclass(frozen=True)
class Decision:
    """What one window of one stream amounts to.

    Attributes:
        label: the winning label, or :data:`UNKNOWN`.
        confidence: smoothed probability of the winning label.
        similarity: cosine similarity of the window to that label's prototype.
        top_k: ``(label, smoothed probability)`` pairs, most likely first.
        unknown: whether the window was rejected as unknown.
    """

    label: str
    confidence: float
    similarity: float
    top_k: tuple[tuple[str, float], ...]
    unknown: bool


class Scorer:
    """Scores windows against labels: cosine to prototypes, plus a few-shot head.

    Every label has a prototype: its cosine similarity is what unknown rejection and the
    reported ``similarity`` use, and ``softmax(cos / temperature)`` is its zero-shot
    probability. When two or more of the labels are enrolled, a few-shot head decides among
    them: the zero-shot mass of the enrolled group is shared out by the head's probabilities,
    so with only enrolled labels the head alone decides, and text labels beside enrolled ones
    still compete on the zero-shot scale. ``AuraModel.classify``, ``AuraModel.recognize``,
    ``LiveRecognizer`` and ``aura eval --bundle`` all score through this class.

    Args:
        labels: one name per prototype row.
        prototypes: ``(K, D)`` unit vectors.
        temperature: softmax temperature over cosine similarity.
        unknown_threshold: below this similarity to the best label, a window is unknown.
        unknown_margin: below this gap between the best and second-best similarity, unknown
            (not applied between two labels the head decided between).
        head: a few-shot head over some of ``labels`` (``None``: zero-shot only).
    """

    def __init__(self, labels: Sequence[str], prototypes: npt.ArrayLike, temperature: float,
                 unknown_threshold: float, unknown_margin: float,
                 head: FewShotHead | None = None) -> None:
        self.labels = tuple(labels)
        self.prototypes = np.asarray(prototypes, dtype=np.float32)
        if self.prototypes.shape[0] != len(self.labels):
            raise ConfigError("one prototype row per label")
        # what cosine_similarities converts them to on every call, once
        self._prototypes64 = self.prototypes.astype(np.float64)
        self.temperature = float(temperature)
        self.unknown_threshold = float(unknown_threshold)
        self.unknown_margin = float(unknown_margin)
        self.head = head
        self._head_index = np.array([], dtype=np.int64)
        if head is not None:
            missing = [x for x in head.labels if x not in self.labels]
            if missing:
                raise ConfigError(f"the few-shot head's labels {missing} are not scored labels")
            self._head_index = np.array([self.labels.index(x) for x in head.labels])

    @property
    def needs_features(self) -> bool:
        """Whether :meth:`score` needs window feature rows (a head is present)."""
        return self.head is not None

    def similarities(self, emb: npt.ArrayLike) -> F64:
        """``(N, K)`` cosine similarities (see :func:`cosine_similarities`; the same
        arithmetic, on prototypes converted once)."""
        return cosine_similarities(emb, self._prototypes64)

    def probabilities(self, cos: F64, head_log_proba: F64 | None = None) -> F64:
        """Softmax of ``cos / temperature`` along the label axis, with the enrolled group's
        mass shared out by ``head_log_proba`` ``(N, H)`` when given."""
        z = cos / self.temperature
        z = z - z.max(axis=-1, keepdims=True)
        p = np.exp(z)
        p = p / p.sum(axis=-1, keepdims=True)
        if head_log_proba is not None and self._head_index.size:
            idx = self._head_index
            mass = p[..., idx].sum(axis=-1, keepdims=True)
            lp = head_log_proba - head_log_proba.max(axis=-1, keepdims=True)
            ph = np.exp(lp)
            p[..., idx] = mass * ph / ph.sum(axis=-1, keepdims=True)
        return p

    def _head(self, features: npt.ArrayLike | None, n: int) -> F64 | None:
        if self.head is None:
            return None
        if features is None:
            raise ConfigError("this scorer has a few-shot head: pass the windows' feature rows")
        f = np.atleast_2d(np.asarray(features, dtype=np.float64))
        if f.shape[0] != n:
            raise ConfigError(f"{f.shape[0]} feature rows for {n} embeddings")
        return self.head.log_proba(f)

    def score(self, emb: npt.ArrayLike, features: npt.ArrayLike | None = None
              ) -> tuple[F64, F64]:
        """Per window: ``(cos, probabilities)``, both ``(N, K)``."""
        cos = self.similarities(emb)
        return cos, self.probabilities(cos, self._head(features, cos.shape[0]))

    def score_recording(self, emb: npt.ArrayLike, features: npt.ArrayLike | None = None
                        ) -> tuple[F64, F64]:
        """One recording of ``N`` windows: ``(cos, probabilities)``, both ``(K,)``.

        The zero-shot part scores the renormalised mean embedding; the head averages its
        windows' log probabilities (a product of experts over the windows).
        """
        e = np.atleast_2d(np.asarray(emb, dtype=np.float64))
        lp = self._head(features, e.shape[0])
        cos = self.similarities(e.mean(axis=0, keepdims=True))
        head_lp = None if lp is None else lp.mean(axis=0, keepdims=True)
        return cos[0], self.probabilities(cos, head_lp)[0]

    def decide_all(self, cos: npt.ArrayLike, probs: npt.ArrayLike) -> Decisions:
        """Decide ``N`` windows at once from their ``(N, K)`` similarities and (smoothed)
        probabilities: the most probable label wins, and it is unknown when its similarity is
        below ``unknown_threshold`` or its lead over the closest rival's similarity is below
        ``unknown_margin`` (labels the few-shot head decided between are not rivals)."""
        c = np.atleast_2d(np.asarray(cos, dtype=np.float64))
        p = np.atleast_2d(np.asarray(probs, dtype=np.float64))
        if c.shape != p.shape or c.shape[1] != len(self.labels):
            raise ConfigError(f"similarities {c.shape} and probabilities {p.shape} must both "
                              f"be (N, {len(self.labels)})")
        rows = np.arange(c.shape[0])
        best = np.argmax(p, axis=1)
        rivals = np.ones(c.shape, dtype=bool)
        rivals[rows, best] = False
        if self._head_index.size:
            # the head separates the enrolled labels it decided between; cosine need not
            in_head = np.isin(best, self._head_index)
            rivals[np.ix_(in_head, self._head_index)] = False
        sim = c[rows, best]
        margin = sim - np.where(rivals, c, -np.inf).max(axis=1, initial=-np.inf)
        unknown = (sim < self.unknown_threshold) | (margin < self.unknown_margin)
        return Decisions(best=best.astype(np.int64), similarity=sim, margin=margin,
                         unknown=unknown)

    def decisions(self, cos: npt.ArrayLike, probs: npt.ArrayLike, top_k: int = 3
                  ) -> list[Decision]:
        """One :class:`Decision` per window of ``(N, K)`` similarities and (smoothed)
        probabilities, the rule applied once to all of them (:meth:`decide_all`)."""
        p = np.atleast_2d(np.asarray(probs, dtype=np.float64))
        d = self.decide_all(cos, p)
        order = np.argsort(-p, axis=1, kind="stable")[:, :top_k]
        out = []
        for i in range(len(d)):
            best, unknown, row = int(d.best[i]), bool(d.unknown[i]), p[i]
            top = tuple((self.labels[j], float(row[j])) for j in order[i])
            out.append(Decision(label=UNKNOWN if unknown else self.labels[best],
                                confidence=float(row[best]),
                                similarity=float(d.similarity[i]), top_k=top,
                                unknown=unknown))
        return out

    def decide(self, cos: F64, smoothed: F64, top_k: int = 3) -> Decision:
        """Turn one window's similarities and smoothed probabilities into a :class:`Decision`
        (see :meth:`decisions`)."""
        return self.decisions(cos[None, :], smoothed[None, :], top_k)[0]
