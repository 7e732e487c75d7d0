"""A small classifier fitted on the device: standardised features, L2-regularised softmax
regression solved with L-BFGS (numpy + scipy, no torch).

The objective is the (weighted) mean cross-entropy plus ``l2 / 2 * ||W||^2`` over the weights
(the biases are not penalised). With ``l2 = 1 / (C * n)`` this is exactly the problem
scikit-learn's ``LogisticRegression(C=C)`` solves, so figures compare with the usual baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import log_softmax

from .._errors import ConfigError

__all__ = ["LogisticHead"]

F64 = npt.NDArray[np.float64]
_STD_FLOOR = 1e-6


@dataclass(frozen=True)
class LogisticHead:
    """A fitted softmax regression over standardised features.

    Attributes:
        mean, scale: per-feature standardisation ``(x - mean) / scale``.
        weight: ``(F, K)`` weights; ``bias``: ``(K,)``.
    """

    mean: F64
    scale: F64
    weight: F64
    bias: F64

    @property
    def n_classes(self) -> int:
        return int(self.bias.shape[0])

    @classmethod
    def fit(
        cls, x: npt.ArrayLike, y: npt.ArrayLike, n_classes: int, *, l2: float,
        sample_weight: npt.ArrayLike | None = None, max_iter: int = 500,
    ) -> LogisticHead:
        """Fit on rows ``x`` ``(N, F)`` with integer classes ``y`` in ``[0, n_classes)``.

        Args:
            l2: weight-decay strength on the mean loss (``1 / (C * N)`` for a C-style value).
            sample_weight: optional per-row weights (normalised to mean 1).
            max_iter: L-BFGS iterations.

        Raises:
            ConfigError: shapes disagree, a class has no row, or values are not finite.
        """
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y)
        if xa.ndim != 2 or ya.shape != (xa.shape[0],):
            raise ConfigError(f"fit needs x (N, F) and y (N,), got {xa.shape} and {ya.shape}")
        if not np.isfinite(xa).all():
            raise ConfigError("fit: features contain NaN or infinity")
        if n_classes < 2:
            raise ConfigError(f"a classifier needs at least 2 classes, got {n_classes}")
        if ya.size == 0 or ya.min() < 0 or ya.max() >= n_classes:
            raise ConfigError(f"class indices must lie in [0, {n_classes})")
        counts = np.bincount(ya.astype(np.int64), minlength=n_classes)
        if (counts == 0).any():
            raise ConfigError(f"classes {np.flatnonzero(counts == 0).tolist()} have no example")
        if l2 <= 0:
            raise ConfigError(f"l2 must be > 0, got {l2}")
        n, f = xa.shape
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if sw.shape != (n,) or (sw < 0).any() or sw.sum() <= 0:
            raise ConfigError("sample_weight must be (N,) non-negative with a positive sum")
        sw = sw / sw.mean()
        mean = xa.mean(axis=0)
        scale = np.maximum(xa.std(axis=0), _STD_FLOOR)
        z = (xa - mean) / scale
        onehot = np.zeros((n, n_classes))
        onehot[np.arange(n), ya.astype(np.int64)] = 1.0

        def loss(theta: F64) -> tuple[float, F64]:
            w = theta[: f * n_classes].reshape(f, n_classes)
            b = theta[f * n_classes:]
            lp = log_softmax(z @ w + b, axis=1)
            ce = -float((sw * (onehot * lp).sum(axis=1)).sum()) / n
            r = (np.exp(lp) - onehot) * sw[:, None] / n  # d ce / d logits
            gw = z.T @ r + l2 * w
            gb = r.sum(axis=0)
            return ce + 0.5 * l2 * float((w * w).sum()), np.concatenate([gw.ravel(), gb])

        theta0 = np.zeros(f * n_classes + n_classes)
        res = minimize(loss, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": 1e-8})
        theta = np.asarray(res.x, dtype=np.float64)
        return cls(mean=mean, scale=scale, weight=theta[: f * n_classes].reshape(f, n_classes),
                   bias=theta[f * n_classes:])

    def logits(self, x: npt.ArrayLike) -> F64:
        """``(N, K)`` unnormalised class scores."""
        xa = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if xa.shape[1] != self.mean.shape[0]:
            raise ConfigError(f"expected {self.mean.shape[0]} features per row, got "
                              f"{xa.shape[1]}")
        return ((xa - self.mean) / self.scale) @ self.weight + self.bias

    def log_proba(self, x: npt.ArrayLike) -> F64:
        """``(N, K)`` log class probabilities."""
        return np.asarray(log_softmax(self.logits(x), axis=1), dtype=np.float64)
