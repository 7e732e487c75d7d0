"""Linear probe: multinomial logistic regression on frozen embeddings (numpy + scipy).

The features are standardised with the training set's mean and standard deviation, the
weights start at zero and are fitted by L-BFGS on the mean cross-entropy plus
``0.5 * l2 * ||W||^2`` (the bias is not penalised). The objective is strictly convex for
``l2 > 0``, so the fit is unique and deterministic: no seed, no learning rate, no epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import log_softmax

from aura_sdk import ConfigError

from ._classify import ClassificationMetrics, classification_metrics

__all__ = ["LogisticRegression", "ProbeResult", "fit_logistic_regression", "linear_probe"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class LogisticRegression:
    """A fitted multinomial logistic regression (standardisation folded in).

    Attributes:
        mean, scale: the training features' mean and standard deviation, ``(dim,)``.
        weight: ``(dim, n_classes)`` on standardised features.
        bias: ``(n_classes,)``.
        loss: final training objective.
        iterations: L-BFGS iterations used.
        converged: whether L-BFGS met its tolerance.
    """

    mean: F64
    scale: F64
    weight: F64
    bias: F64
    loss: float
    iterations: int
    converged: bool

    def logits(self, x: ArrayLike) -> F64:
        """``(n, n_classes)`` class scores."""
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return z @ self.weight + self.bias

    def predict(self, x: ArrayLike) -> NDArray[np.int64]:
        """Most likely class index per row."""
        return np.argmax(self.logits(x), axis=1).astype(np.int64)


def fit_logistic_regression(x: ArrayLike, y: ArrayLike, n_classes: int, *, l2: float = 1e-2,
                            max_iter: int = 1000, tol: float = 1e-7) -> LogisticRegression:
    """Fit multinomial logistic regression with an L2 penalty.

    Args:
        x: ``(n, dim)`` features.
        y: ``(n,)`` class indices in ``0 .. n_classes - 1``.
        n_classes: number of classes (classes absent from ``y`` just get no support).
        l2: penalty weight on the standardised-feature weights (> 0).
        max_iter: L-BFGS iteration cap.
        tol: L-BFGS gradient tolerance.

    Returns:
        The fitted model.

    Raises:
        ConfigError: empty or non-finite data, bad labels, or ``l2 <= 0``.
    """
    a = np.asarray(x, dtype=np.float64)
    t = np.asarray(y, dtype=np.int64)
    if a.ndim != 2 or a.shape[0] == 0 or t.shape != (a.shape[0],):
        raise ConfigError(f"need (n, dim) features and (n,) labels, got {a.shape} and {t.shape}")
    if not np.isfinite(a).all():
        raise ConfigError("probe features hold NaN or inf")
    if n_classes < 1 or t.min() < 0 or t.max() >= n_classes:
        raise ConfigError(f"labels must lie in 0..{n_classes - 1}")
    if not l2 > 0:
        raise ConfigError(f"l2={l2} must be > 0 (it keeps the problem strictly convex)")
    mean = a.mean(axis=0)
    scale = a.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = (a - mean) / scale
    n, d = z.shape
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), t] = 1.0

    def objective(theta: F64) -> tuple[float, F64]:
        w = theta[: d * n_classes].reshape(d, n_classes)
        b = theta[d * n_classes :]
        logp = log_softmax(z @ w + b, axis=1)  # (n, C)
        loss = -float(np.sum(onehot * logp)) / n + 0.5 * l2 * float(np.sum(w * w))
        g = (np.exp(logp) - onehot) / n  # dL/dlogits
        gw = z.T @ g + l2 * w
        return loss, np.concatenate([gw.ravel(), g.sum(axis=0)])

    res = minimize(objective, np.zeros(d * n_classes + n_classes), jac=True,
                   method="L-BFGS-B", options={"maxiter": max_iter, "gtol": tol})
    theta = np.asarray(res.x, dtype=np.float64)
    return LogisticRegression(
        mean=mean, scale=scale, weight=theta[: d * n_classes].reshape(d, n_classes),
        bias=theta[d * n_classes :], loss=float(res.fun), iterations=int(res.nit),
        converged=bool(res.success),
    )


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """A linear probe's test metrics and how it was fitted.

    Attributes:
        metrics: test-set classification metrics.
        train_accuracy: accuracy on the training features.
        n_train: training windows.
        l2: penalty used.
        model: the fitted regression.
    """

    metrics: ClassificationMetrics
    train_accuracy: float
    n_train: int
    l2: float
    model: LogisticRegression

    def as_dict(self) -> dict[str, object]:
        """JSON form: the test metrics plus ``train_accuracy``, ``n_train``, ``l2``..."""
        out = self.metrics.as_dict()
        out.update(train_accuracy=self.train_accuracy, n_train=self.n_train, l2=self.l2,
                   iterations=self.model.iterations, converged=self.model.converged)
        return out


def linear_probe(train_x: ArrayLike, train_y: ArrayLike, test_x: ArrayLike, test_y: ArrayLike,
                 labels: Sequence[str], *, l2: float = 1e-2,
                 max_iter: int = 1000) -> ProbeResult:
    """Train a linear classifier on frozen training embeddings, score it on test embeddings.

    Args:
        train_x, test_x: ``(n, dim)`` embeddings.
        train_y, test_y: class indices into ``labels``.
        labels: class names.
        l2: L2 penalty (see :func:`fit_logistic_regression`).
        max_iter: L-BFGS iteration cap.

    Returns:
        Test metrics over ``labels`` and the fitted model.

    Raises:
        ConfigError: see :func:`fit_logistic_regression`; also an empty test set or
            mismatched widths.
    """
    model = fit_logistic_regression(train_x, train_y, len(labels), l2=l2, max_iter=max_iter)
    tx = np.asarray(test_x, dtype=np.float64)
    if tx.ndim != 2 or tx.shape[1] != model.weight.shape[0]:
        raise ConfigError(f"test features {tx.shape} do not match the training width "
                          f"{model.weight.shape[0]}")
    train_acc = float(np.mean(model.predict(train_x) == np.asarray(train_y)))
    metrics = classification_metrics(test_y, model.predict(tx), labels)
    return ProbeResult(metrics=metrics, train_accuracy=train_acc,
                       n_train=int(np.asarray(train_y).size), l2=l2, model=model)
