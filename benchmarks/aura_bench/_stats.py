"""Percentiles, CDF points and ratios: the numbers every report row is made of."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["CDF_POINTS", "cdf_points", "get", "latency_summary", "ratio"]

#: quantile levels (percent) stored for CDF plots: enough to draw the curve, small in JSON
CDF_POINTS: tuple[float, ...] = tuple(float(q) for q in range(0, 101, 2))


def latency_summary(seconds: npt.ArrayLike) -> dict[str, float]:
    """p50 / p90 / p99 / mean / min / max in milliseconds of per-run seconds.

    Raises:
        ValueError: no runs.
    """
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    if ms.size == 0:
        raise ValueError("no runs to summarise")
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99),
            "mean_ms": float(ms.mean()), "min_ms": float(ms.min()), "max_ms": float(ms.max()),
            "runs": int(ms.size)}


def cdf_points(values_ms: npt.ArrayLike, levels: Sequence[float] = CDF_POINTS
               ) -> list[float]:
    """The values at ``levels`` percent (``CDF_POINTS``): a latency CDF in a few numbers."""
    v = np.asarray(values_ms, dtype=np.float64)
    if v.size == 0:
        return []
    return [float(x) for x in np.percentile(v, list(levels))]


def ratio(num: float | None, den: float | None) -> float | None:
    """``num / den``, or ``None`` when either is missing or ``den`` is not positive."""
    if num is None or den is None or not np.isfinite(num) or not np.isfinite(den) or den <= 0:
        return None
    return float(num / den)


def get(d: dict[str, Any] | None, *keys: str) -> Any:
    """``d[k0][k1]...`` or ``None`` when any level is missing."""
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur
