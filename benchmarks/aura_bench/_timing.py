"""The timed-stage helper every benchmark uses: warm-up, then repetitions, wall time each."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["time_runs"]


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
