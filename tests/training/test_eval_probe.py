"""Linear probe on frozen embeddings and fine-tune transfer of the IMU encoder."""

from __future__ import annotations

import numpy as np
import pytest

from aura_sdk import ConfigError
from aura_training.eval import fit_logistic_regression, linear_probe

LABELS = ["a", "b", "c"]


def _clusters(rng: np.random.Generator, n: int, dim: int = 16) -> tuple[np.ndarray, np.ndarray]:
    centres = 4.0 * np.eye(3, dim)
    y = rng.integers(0, 3, n)
    return centres[y] + 0.3 * rng.normal(size=(n, dim)), y


def test_probe_separates_linearly_separable_embeddings() -> None:
    rng = np.random.default_rng(0)
    xtr, ytr = _clusters(rng, 90)
    xte, yte = _clusters(rng, 60)
    r = linear_probe(xtr, ytr, xte, yte, LABELS, l2=1e-2)
    assert r.metrics.accuracy == 1.0 and r.metrics.macro_f1 == 1.0
    assert r.train_accuracy == 1.0 and r.n_train == 90 and r.model.converged
    d = r.as_dict()
    assert d["accuracy"] == 1.0 and d["l2"] == 1e-2 and d["n_train"] == 90


def test_probe_on_random_labels_stays_near_chance() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 8))
    y = rng.integers(0, 4, 600)
    r = linear_probe(x[:400], y[:400], x[400:], y[400:], list("abcd"), l2=1e-2)
    assert 0.15 < r.metrics.accuracy < 0.36  # chance 0.25, 200 test windows
    assert r.train_accuracy < 0.45  # 8 features cannot memorise 400 random labels


def test_probe_is_deterministic_and_l2_shrinks_weights() -> None:
    rng = np.random.default_rng(2)
    x, y = _clusters(rng, 60)
    a = fit_logistic_regression(x, y, 3, l2=1e-2)
    b = fit_logistic_regression(x, y, 3, l2=1e-2)
    np.testing.assert_array_equal(a.weight, b.weight)
    strong = fit_logistic_regression(x, y, 3, l2=10.0)
    assert np.linalg.norm(strong.weight) < 0.5 * np.linalg.norm(a.weight)
    # the optimum: the gradient of mean CE + l2/2 |W|^2 vanishes
    z = (x - a.mean) / a.scale
    p = np.exp(a.logits(x) - a.logits(x).max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    grad = z.T @ (p - np.eye(3)[y]) / len(y) + 1e-2 * a.weight
    assert np.abs(grad).max() < 1e-4


def test_probe_refuses_bad_input() -> None:
    with pytest.raises(ConfigError, match="l2"):
        fit_logistic_regression(np.ones((3, 2)), [0, 1, 0], 2, l2=0.0)
    with pytest.raises(ConfigError, match="labels must lie"):
        fit_logistic_regression(np.ones((3, 2)), [0, 1, 5], 2)
    with pytest.raises(ConfigError, match="NaN"):
        fit_logistic_regression(np.full((3, 2), np.nan), [0, 1, 0], 2)


def test_finetune_learns_a_separable_imu_task_and_leaves_the_model_alone() -> None:
    torch = pytest.importorskip("torch")
    from aura_training.eval import FinetuneConfig, finetune_transfer
    from aura_training.models import build_encoder

    torch.manual_seed(0)
    enc = build_encoder({"kind": "imu_transformer", "sample_rate_hz": 10.0, "window_s": 2.0,
                         "patch_size": 5, "dim": 16, "depth": 1, "heads": 2, "mlp_dim": 32,
                         "embed_dim": 16})
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    rng = np.random.default_rng(3)
    t = np.arange(20) / 10.0

    def windows(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        x = 0.3 * rng.normal(size=(n, 20, 6))
        x[y == 1, :, 0] += 2.0 * np.sin(2 * np.pi * 1.0 * t)  # class 1 shakes along x
        x[y == 0, :, 2] += 1.5  # class 0 is tilted
        return x.astype(np.float32), y

    xtr, ytr = windows(64)
    xte, yte = windows(32)
    state = torch.random.get_rng_state()
    cfg = FinetuneConfig(epochs=8, batch_size=16, lr=1e-3, head_lr=5e-2, seed=0)
    r = finetune_transfer(enc, xtr, ytr, xte, yte, ["tilted", "shaking"], cfg)
    assert r.metrics.accuracy == 1.0
    assert len(r.epoch_loss) == 8 and r.epoch_loss[-1] < 0.5 * r.epoch_loss[0]
    assert torch.equal(torch.random.get_rng_state(), state)  # caller's RNG untouched
    for k, v in enc.state_dict().items():
        assert torch.equal(v, before[k]), k  # fine-tuned a copy
    again = finetune_transfer(enc, xtr, ytr, xte, yte, ["tilted", "shaking"], cfg)
    assert again.epoch_loss == r.epoch_loss  # seeded
    assert r.as_dict()["config"]["epochs"] == 8
