"""The timed-stage helpers every benchmark uses: warm-up, then repetitions, wall time each."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["time_budget", "time_runs"]


def time_runs(fn: Callable[[], Any], warmup: int, reps: int) -> np.ndarray:
    """Call ``fn`` ``warmup`` times untimed, then ``reps`` times; return each run's seconds."""
    for _ in range(warmup):
        fn()
    out = np.empty(reps)
    for i in range(reps):
        t0 = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t0
    return out


def time_budget(fn: Callable[[], Any], warmup: int, max_reps: int, budget_s: float,
                min_reps: int = 5) -> np.ndarray:
    """Like :func:`time_runs`, but stop after ``budget_s`` of timed runs (at least ``min_reps``).

    A slow configuration (a big batch) then gets fewer repetitions instead of a longer run;
    percentiles of few runs are coarse, so the run count travels with every result.

    Raises:
        ValueError: ``max_reps < min_reps`` or ``min_reps < 1``.
    """
    if min_reps < 1 or max_reps < min_reps:
        raise ValueError(f"need 1 <= min_reps <= max_reps, got {min_reps} and {max_reps}")
    for _ in range(warmup):
        fn()
    out = np.empty(max_reps)
    spent = 0.0
    n = 0
    while n < max_reps and (n < min_reps or spent < budget_s):
        t0 = time.perf_counter()
        fn()
        out[n] = time.perf_counter() - t0
        spent += out[n]
        n += 1
    return out[:n]
