"""Shared helpers for the live-recognition tests (no tests here)."""

from __future__ import annotations

import numpy as np

from aura_export import toy_windows, write_example_bundle
from aura_sdk import load_bundle
from aura_sdk._recording import LabelSpan, Recording

RATE = 50.0
WINDOW = 100


def toy_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "toy.aura"
    write_example_bundle(path, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=32)
    return load_bundle(str(path), precision="fp32")


def session(labels: list[str], seconds_each: float, rate: float = RATE, seed: int = 0
            ) -> Recording:
    """A scripted session of toy activities, resampled to ``rate`` (SI units)."""
    parts, spans = [], []
    t0 = 0.0
    for i, label in enumerate(labels):
        n_win = int(np.ceil(seconds_each * RATE / WINDOW))
        x = toy_windows(label, n_win, WINDOW, RATE, seed=seed + i).reshape(-1, 6)
        x = x[: int(seconds_each * RATE)].astype(np.float64)
        parts.append(x)
        spans.append(LabelSpan(t0, t0 + seconds_each, label))
        t0 += seconds_each
    x50 = np.concatenate(parts)
    t50 = np.arange(x50.shape[0]) / RATE
    if rate == RATE:
        t, x = t50, x50
    else:
        t = np.arange(int(t50[-1] * rate) + 1) / rate
        x = np.column_stack([np.interp(t, t50, x50[:, c]) for c in range(6)])
    return Recording(t=t, acc=x[:, :3].copy(), gyro=x[:, 3:].copy(), spans=tuple(spans))
