"""The bundle's scoring parameters: temperature from training, unknown rejection from validation.

The device reports a window as "unknown" when its best cosine similarity is below
``unknown_threshold`` or the gap to the second best is below ``unknown_margin``
(:meth:`aura_sdk.live.Scorer.decide`). Both are chosen here from labelled validation windows so
that a stated fraction of the *correctly* classified windows survives: each rule may reject at
most half of the allowed loss, so together they keep at least ``keep`` of them. The windows are
scored and decided by the device's own :class:`~aura_sdk.live.Scorer`, so the kept and rejected
fractions written into the manifest are what the device will do. Without validation windows
nothing is rejected (threshold 0, margin 0): a threshold that was never measured would silently
hide correct answers.

The bounds above are fitted to decisions among every label. A device scoring a label set (the
default ``everyday``, 14 labels) decides among fewer rivals: windows that lose to some
far-away label among all 57 become correct ones with weaker similarities, so the all-label
floor rejected 11 % of the correct ``everyday`` answers of a held-out split instead of 5 %.
Each declared label set therefore gets its own bounds (:class:`~aura_sdk.bundle.SetRejection`),
fitted the same way on the validation windows whose label is in the set, decided among the
set's labels only; a set with fewer than ``_MIN_CORRECT`` correct windows keeps the all-label
bounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from aura_sdk import ConfigError
from aura_sdk.bundle import Prototypes, ScoringSpec, SetRejection
from aura_sdk.live import Scorer

__all__ = [
    "DEFAULT_TEMPERATURE",
    "DEFAULT_UNKNOWN_MARGIN",
    "DEFAULT_UNKNOWN_THRESHOLD",
    "ScoringChoice",
    "SetChoice",
    "choose_scoring",
    "temperature_from",
]

#: The paper's initial contrastive temperature, used when training reports none.
DEFAULT_TEMPERATURE = 0.1
#: Without validation windows: reject nothing.
DEFAULT_UNKNOWN_THRESHOLD = 0.0
DEFAULT_UNKNOWN_MARGIN = 0.0
_MIN_CORRECT = 10


def temperature_from(temperature: float | None = None, logit_scale: float | None = None) -> float:
    """The softmax temperature: given directly, or ``exp(-logit_scale)`` of a trained loss.

    Raises:
        ConfigError: both given, or a non-finite / non-positive result.
    """
    if temperature is not None and logit_scale is not None:
        raise ConfigError("give the temperature or the logit scale, not both")
    t = (math.exp(-logit_scale) if logit_scale is not None
         else temperature if temperature is not None else DEFAULT_TEMPERATURE)
    if not math.isfinite(t) or not 0 < t <= 100:
        raise ConfigError(f"temperature {t!r} must be a finite number in (0, 100]")
    return float(t)


@dataclass(frozen=True)
class SetChoice:
    """One label set's fitted rejection and what it does on the validation windows.

    Attributes:
        rejection: the bounds written into the manifest.
        kept_correct: fraction of the set's correctly classified windows kept.
        rejected_wrong: fraction of its misclassified windows rejected (``None``: none wrong).
        n_windows: validation windows whose label is in the set.
    """

    rejection: SetRejection
    kept_correct: float
    rejected_wrong: float | None
    n_windows: int


@dataclass(frozen=True)
class ScoringChoice:
    """The scoring parameters and how they were chosen.

    Attributes:
        spec: what goes into the manifest.
        source: ``"validation"`` or ``"defaults"``.
        keep: the target fraction of correct validation windows kept.
        kept_correct: fraction of correctly classified validation windows kept.
        rejected_wrong: fraction of misclassified validation windows rejected.
        n_windows: validation windows used.
        sets: the label sets given their own bounds, by name.
    """

    spec: ScoringSpec
    source: str
    keep: float
    kept_correct: float | None = None
    rejected_wrong: float | None = None
    n_windows: int = 0
    sets: Mapping[str, SetChoice] = field(default_factory=dict)

    def as_metrics(self, prefix: str = "scoring") -> dict[str, float]:
        """Flat metrics for a bundle manifest."""
        out = {f"{prefix}.temperature": self.spec.temperature,
               f"{prefix}.unknown_threshold": self.spec.unknown_threshold,
               f"{prefix}.unknown_margin": self.spec.unknown_margin}
        if self.kept_correct is not None:
            out[f"{prefix}.validation_kept_correct"] = self.kept_correct
        if self.rejected_wrong is not None:
            out[f"{prefix}.validation_rejected_wrong"] = self.rejected_wrong
        for name, c in self.sets.items():
            out[f"{prefix}.{name}.validation_kept_correct"] = c.kept_correct
            if c.rejected_wrong is not None:
                out[f"{prefix}.{name}.validation_rejected_wrong"] = c.rejected_wrong
        return out


def _lower_bound(values: npt.NDArray[np.float64], q: float) -> float:
    """The largest bound with at most ``floor(q * n)`` of ``values`` strictly below it."""
    ordered = np.sort(values)
    return float(ordered[int(np.floor(q * ordered.size))])


@dataclass(frozen=True)
class _Fit:
    threshold: float
    margin: float
    kept_correct: float
    rejected_wrong: float | None
    n_correct: int


def _fit(emb: npt.NDArray[np.float64], truth: npt.NDArray[np.int64], names: Sequence[str],
         protos: npt.NDArray[np.float32], temperature: float, keep: float) -> _Fit | None:
    """Bounds that keep ``keep`` of the correct decisions among ``names``; ``None`` when
    fewer than ``_MIN_CORRECT`` windows are decided correctly."""

    def scorer(threshold: float, margin: float) -> Scorer:
        return Scorer(names, protos, temperature, threshold, margin)

    # the device's ranking, similarity and margin per window, with nothing rejected yet
    ranking = scorer(-1.0, 0.0)
    cos, probs = ranking.score(emb)
    ranked = ranking.decide_all(cos, probs)
    correct = ranked.best == truth
    if int(correct.sum()) < _MIN_CORRECT:
        return None
    # each rule leaves at most floor(q * n) correct windows strictly below its bound
    q = (1.0 - keep) / 2.0
    threshold = float(np.clip(_lower_bound(ranked.similarity[correct], q), -1.0, 1.0))
    gap = float(np.clip(_lower_bound(ranked.margin[correct], q), 0.0, 2.0))
    rejected = scorer(threshold, gap).decide_all(cos, probs).unknown
    wrong = ~correct
    return _Fit(threshold, gap, float(np.mean(~rejected[correct])),
                float(np.mean(rejected[wrong])) if wrong.any() else None, int(correct.sum()))


def choose_scoring(
    temperature: float,
    embeddings: npt.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
    prototypes: Prototypes | None = None,
    *,
    keep: float = 0.95,
    label_sets: Mapping[str, Sequence[str]] | None = None,
) -> ScoringChoice:
    """Scoring parameters, with unknown rejection fitted to validation similarities if given.

    Args:
        temperature: the softmax temperature.
        embeddings: ``(N, D)`` validation embeddings (from the encoder the device will run).
        labels: their true labels (windows whose label has no prototype are ignored).
        prototypes: the bundle's prototypes.
        keep: fraction of correctly classified windows that must stay recognised.
        label_sets: the bundle's declared label sets; each with enough correct validation
            windows gets its own bounds, fitted among its labels.

    Raises:
        ConfigError: ``keep`` outside (0, 1], or embeddings without labels / prototypes.
    """
    if not 0 < keep <= 1:
        raise ConfigError(f"keep={keep} must lie in (0, 1]")
    defaults = ScoringChoice(
        ScoringSpec(temperature=temperature, unknown_threshold=DEFAULT_UNKNOWN_THRESHOLD,
                    unknown_margin=DEFAULT_UNKNOWN_MARGIN), "defaults", keep)
    if embeddings is None:
        return defaults
    if labels is None or prototypes is None:
        raise ConfigError("validation embeddings need their labels and the prototypes")
    emb = np.asarray(embeddings, dtype=np.float64)
    index = {x: i for i, x in enumerate(prototypes.labels)}
    rows = [j for j, x in enumerate(labels) if x in index]
    if not rows or len(prototypes.labels) < 2:
        return defaults
    truth = np.array([index[labels[j]] for j in rows])
    fit = _fit(emb[rows], truth, prototypes.labels, prototypes.embeddings, temperature, keep)
    if fit is None:
        return ScoringChoice(defaults.spec, "defaults (fewer than "
                             f"{_MIN_CORRECT} correct validation windows)", keep,
                             n_windows=len(rows))
    sets: dict[str, SetChoice] = {}
    for name, members in (label_sets or {}).items():
        inside = [x for x in members if x in index]
        if len(inside) < 2:
            continue
        local = {x: i for i, x in enumerate(inside)}
        picked = [j for j in rows if labels[j] in local]
        if not picked:
            continue
        sub = _fit(emb[picked], np.array([local[labels[j]] for j in picked]), inside,
                   prototypes.embeddings[[index[x] for x in inside]], temperature, keep)
        if sub is not None:
            sets[name] = SetChoice(SetRejection(unknown_threshold=sub.threshold,
                                                unknown_margin=sub.margin),
                                   sub.kept_correct, sub.rejected_wrong, len(picked))
    spec = ScoringSpec(temperature=temperature, unknown_threshold=fit.threshold,
                       unknown_margin=fit.margin,
                       label_sets={k: c.rejection for k, c in sets.items()})
    return ScoringChoice(spec, "validation", keep, kept_correct=fit.kept_correct,
                         rejected_wrong=fit.rejected_wrong, n_windows=len(rows), sets=sets)
