"""This machine's measured peak: the best float32 matrix-multiply rate numpy (and torch) reach.

A square GEMM is the most favourable dense workload there is, so its best GFLOP/s is a
practical ceiling for an encoder made of matmuls. The encoder's achieved rate divided by it is
the distance to the physical limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._timing import time_budget

__all__ = ["gemm_probe", "numpy_gemm", "torch_gemm"]


def gemm_probe(matmul: Callable[[int], Callable[[], Any]], sizes: Sequence[int],
               budget_s: float, max_reps: int = 20) -> dict[str, Any]:
    """Best GFLOP/s of ``n x n @ n x n`` per size (``matmul(n)`` returns the timed call)."""
    rows = []
    for n in sizes:
        secs = time_budget(matmul(n), warmup=1, max_reps=max_reps, budget_s=budget_s,
                           min_reps=2)
        flops = 2.0 * n ** 3
        rows.append({"n": int(n), "runs": int(secs.size),
                     "best_gflops": float(flops / secs.min() / 1e9),
                     "median_gflops": float(flops / np.median(secs) / 1e9)})
    best = max(rows, key=lambda r: r["best_gflops"])
    return {"sizes": rows, "best_gflops": best["best_gflops"], "best_n": best["n"]}


def numpy_gemm(sizes: Sequence[int], budget_s: float) -> dict[str, Any]:
    """The numpy (BLAS) float32 probe, with the BLAS it runs on."""
    rng = np.random.default_rng(0)

    def make(n: int) -> Callable[[], Any]:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        out = np.empty((n, n), np.float32)
        return lambda: np.matmul(a, b, out=out)

    res = gemm_probe(make, sizes, budget_s)
    res["library"] = f"numpy {np.__version__}"
    return res


def torch_gemm(sizes: Sequence[int], budget_s: float) -> dict[str, Any]:
    """The torch float32 probe on CPU (imports torch: call it where torch is loaded anyway)."""
    import torch

    g = torch.Generator().manual_seed(0)

    def make(n: int) -> Callable[[], Any]:
        a = torch.randn(n, n, generator=g)
        b = torch.randn(n, n, generator=g)
        out = torch.empty(n, n)
        return lambda: torch.mm(a, b, out=out)

    with torch.inference_mode():
        res = gemm_probe(make, sizes, budget_s)
    res["library"] = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    return res
