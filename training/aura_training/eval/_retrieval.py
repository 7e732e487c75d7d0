"""Cross-modal retrieval metrics from two embedding matrices (numpy; no torch).

Every query ranks every target by cosine similarity. A target is *relevant* to a query when
their ground-truth ids are equal, so duplicates are handled by ids: when several windows share
one caption, the runner gives each window's text the id of its caption, and an IMU query
that ranks *any* copy of its caption first scores a hit (as does a caption query that ranks
any of the windows it describes first). The rank of a query is the position of the first
relevant target.

**Ties.** Scores within ``tie_tol`` of the best relevant score are tied with it. Rather than
break ties in whatever order a sort happens to leave them (which would reward a collapsed
model that maps everything to one point with R@1 = 1), every metric is its exact expectation
over a uniformly random order of the tied targets: with ``g`` non-relevant targets strictly
ahead and ``n`` tied targets of which ``p`` are relevant, the first relevant one lands at
position ``g + j`` with probability ``C(n - j, p - 1) / C(n, p)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aura_sdk import ConfigError

__all__ = [
    "DEFAULT_KS",
    "RetrievalMetrics",
    "cross_modal_retrieval",
    "retrieval_from_scores",
    "retrieval_metrics",
]

#: The paper's cut-offs: R@1, R@10, R@50.
DEFAULT_KS: tuple[int, ...] = (1, 10, 50)

_CHUNK = 1024  # query rows per block: bounds the (rows, targets) temporaries


@dataclass(frozen=True)
class RetrievalMetrics:
    """Retrieval quality of one direction (queries of one modality, targets of another).

    Attributes:
        mrr: mean reciprocal rank of the first relevant target (1.0 is perfect).
        recall: cut-off ``k`` -> fraction of queries whose first relevant target is in the
            top ``k`` (R@k). A ``k`` at or above the number of targets is trivially 1.0.
        mean_rank: mean position of the first relevant target (1-based).
        n_queries: number of queries.
        n_targets: number of targets each query ranks.
    """

    mrr: float
    recall: Mapping[int, float] = field(default_factory=dict)
    mean_rank: float = 1.0
    n_queries: int = 0
    n_targets: int = 0

    def as_dict(self) -> dict[str, float | int]:
        """JSON form: ``{"mrr", "r@1", "r@10", ..., "mean_rank", "queries", "targets"}``."""
        out: dict[str, float | int] = {"mrr": self.mrr}
        out.update({f"r@{k}": v for k, v in sorted(self.recall.items())})
        out.update(mean_rank=self.mean_rank, queries=self.n_queries, targets=self.n_targets)
        return out


def _unit_rows(x: ArrayLike, name: str) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ConfigError(f"{name} must be a non-empty (n, dim) matrix, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ConfigError(f"{name} holds NaN or inf: the encoder diverged or the input was bad")
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.maximum(norm, 1e-12)


def _ids(ids: ArrayLike | None, n: int, name: str) -> NDArray[np.generic]:
    if ids is None:
        return np.arange(n)
    a = np.asarray(ids)
    if a.shape != (n,):
        raise ConfigError(f"{name} must have one id per row ({n}), got shape {a.shape}")
    return a


def _first_hit_distribution(n_tied: int, p_tied: int) -> NDArray[np.float64]:
    """P(the first relevant one is at position j of the tied block), j = 1 .. n - p + 1."""
    # P(1) = p / n; P(j + 1) / P(j) = (n - j - p + 1) / (n - j)
    j = np.arange(1, n_tied - p_tied + 1, dtype=np.float64)
    ratios = (n_tied - j - p_tied + 1) / (n_tied - j)
    return (p_tied / n_tied) * np.concatenate(([1.0], np.cumprod(ratios)))


def retrieval_from_scores(
    scores: ArrayLike,
    query_ids: ArrayLike | None = None,
    target_ids: ArrayLike | None = None,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    tie_tol: float = 1e-6,
) -> RetrievalMetrics:
    """Retrieval metrics from a ``(queries, targets)`` similarity matrix.

    Args:
        scores: similarity of each query to each target (higher = closer).
        query_ids, target_ids: ground-truth ids; target ``j`` is relevant to query ``i`` iff
            ``query_ids[i] == target_ids[j]``. Default: ``arange`` on both sides (the
            diagonal is the truth; needs a square matrix).
        ks: the R@k cut-offs.
        tie_tol: scores within this of the best relevant score count as tied with it.

    Returns:
        The metrics, each the exact expectation over random tie-breaking.

    Raises:
        ConfigError: shapes disagree, a ``k`` is not positive, or a query has no relevant
            target.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or 0 in s.shape:
        raise ConfigError(f"scores must be a non-empty (queries, targets) matrix, got {s.shape}")
    if not np.isfinite(s).all():
        raise ConfigError("scores hold NaN or inf: the encoder diverged or the input was bad")
    if any(int(k) < 1 for k in ks):
        raise ConfigError(f"recall cut-offs must be >= 1, got {list(ks)}")
    qi = _ids(query_ids, s.shape[0], "query_ids")
    ti = _ids(target_ids, s.shape[1], "target_ids")
    kk = sorted({int(k) for k in ks})
    rr = np.empty(s.shape[0])
    rank = np.empty(s.shape[0])
    hits = np.empty((s.shape[0], len(kk)))
    for a in range(0, s.shape[0], _CHUNK):
        block = s[a : a + _CHUNK]
        relevant = qi[a : a + _CHUNK, None] == ti[None, :]  # (rows, targets)
        missing = np.flatnonzero(~relevant.any(axis=1))
        if missing.size:
            raise ConfigError(f"query {a + int(missing[0])} (id {qi[a + missing[0]]!r}) has no "
                              "relevant target: every query's ground truth must be among "
                              "the targets")
        best = np.where(relevant, block, -np.inf).max(axis=1, keepdims=True)
        tied = np.abs(block - best) <= tie_tol
        ahead = ((block > best) & ~tied).sum(axis=1)  # non-relevant, strictly better
        n_tied = tied.sum(axis=1)
        p_tied = (tied & relevant).sum(axis=1)
        clean = n_tied == p_tied  # no non-relevant target tied: the rank is certain
        pos = (ahead + 1).astype(np.float64)
        rr[a : a + block.shape[0]][clean] = 1.0 / pos[clean]
        rank[a : a + block.shape[0]][clean] = pos[clean]
        hits[a : a + block.shape[0]][clean] = (pos[clean, None] <= np.array(kk)[None, :])
        for r in np.flatnonzero(~clean):
            pj = _first_hit_distribution(int(n_tied[r]), int(p_tied[r]))
            pos = ahead[r] + np.arange(1, pj.size + 1)  # 1-based ranks
            rr[a + r] = float(np.sum(pj / pos))
            rank[a + r] = float(np.sum(pj * pos))
            hits[a + r] = [float(pj[pos <= k].sum()) for k in kk]
    return RetrievalMetrics(
        mrr=float(rr.mean()), recall={k: float(v) for k, v in zip(kk, hits.mean(axis=0),
                                                                   strict=True)},
        mean_rank=float(rank.mean()), n_queries=int(s.shape[0]), n_targets=int(s.shape[1]),
    )


def retrieval_metrics(
    queries: ArrayLike,
    targets: ArrayLike,
    query_ids: ArrayLike | None = None,
    target_ids: ArrayLike | None = None,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    tie_tol: float = 1e-6,
) -> RetrievalMetrics:
    """Retrieval of ``targets`` by ``queries`` under cosine similarity.

    Args:
        queries: ``(n_q, dim)`` embeddings (normalised here; need not be unit vectors).
        targets: ``(n_t, dim)`` embeddings in the same space.
        query_ids, target_ids: ground-truth ids (see :func:`retrieval_from_scores`).
        ks: the R@k cut-offs.
        tie_tol: cosine tolerance for ties.

    Returns:
        MRR, R@k and mean rank.

    Raises:
        ConfigError: empty or non-finite embeddings, mismatched widths or ids, or a query
            without a relevant target.
    """
    q = _unit_rows(queries, "queries")
    t = _unit_rows(targets, "targets")
    if q.shape[1] != t.shape[1]:
        raise ConfigError(f"queries are {q.shape[1]}-d but targets are {t.shape[1]}-d: "
                          "they must live in one embedding space")
    return retrieval_from_scores(q @ t.T, query_ids, target_ids, ks=ks, tie_tol=tie_tol)


def cross_modal_retrieval(
    embeddings: Mapping[str, ArrayLike],
    ids: Mapping[str, ArrayLike] | None = None,
    *,
    present: Mapping[str, ArrayLike] | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    tie_tol: float = 1e-6,
) -> dict[str, RetrievalMetrics]:
    """Retrieval in both directions between every pair of modalities.

    Row ``i`` of every matrix belongs to window ``i``. For the pair ``(a, b)`` the ground
    truth is ``ids[a]`` where ``a`` has ids, else ``ids[b]``, else the window index; e.g.
    with ``ids={"text": caption_ids}`` every pair with text matches by caption (duplicate
    captions are interchangeable) and IMU-video, IMU-mocap, video-mocap match by window.

    Args:
        embeddings: modality -> ``(n_windows, dim)`` embeddings, all with the same rows.
        ids: modality -> ``(n_windows,)`` ids of content that may repeat across windows.
        present: modality -> ``(n_windows,)`` bool, false for windows that lack it; a pair
            is scored on the windows that have both (a pair with none is left out).
        ks: the R@k cut-offs.
        tie_tol: cosine tolerance for ties.

    Returns:
        ``"a->b"`` -> metrics for every ordered pair, in the order of ``embeddings``.

    Raises:
        ConfigError: fewer than two modalities, or the matrices disagree in rows.
    """
    names = list(embeddings)
    if len(names) < 2:
        raise ConfigError(f"retrieval needs two modalities or more, got {names}")
    unit = {m: _unit_rows(embeddings[m], m) for m in names}
    rows = {m: e.shape[0] for m, e in unit.items()}
    if len(set(rows.values())) != 1:
        raise ConfigError(f"every modality needs one row per window, got {rows}")
    n = next(iter(rows.values()))
    ids = dict(ids or {})
    have = {m: np.ones(n, dtype=bool) if present is None or m not in present
            else np.asarray(present[m], dtype=bool).reshape(n) for m in names}
    out: dict[str, RetrievalMetrics] = {}
    for a, b in itertools.permutations(names, 2):
        if unit[a].shape[1] != unit[b].shape[1]:
            raise ConfigError(f"{a} is {unit[a].shape[1]}-d but {b} is {unit[b].shape[1]}-d")
        both = have[a] & have[b]
        if not both.any():
            continue
        key = a if a in ids else b if b in ids else None
        gt = np.arange(n) if key is None else _ids(ids[key], n, f"ids[{key!r}]")
        out[f"{a}->{b}"] = retrieval_from_scores(unit[a][both] @ unit[b][both].T, gt[both],
                                                 gt[both], ks=ks, tie_tol=tie_tol)
    return out
