"""Few-shot enrollment: features, head, store, scorer, and the model and live paths using them."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aura_export import toy_windows, write_example_bundle
from aura_sdk import ConfigError, LiveRecognizer, SensorSpec, load_bundle
from aura_sdk._scoring import Scorer
from aura_sdk.fewshot import (
    EnrolledLabel,
    FewShotHead,
    LogisticHead,
    n_statistics,
    window_statistics,
)

RATE = 50.0
WINDOW = 100
SI = SensorSpec(sample_rate_hz=RATE)


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("fs") / "toy.aura"
    write_example_bundle(path, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=32)
    return str(path)


# -- the head ---------------------------------------------------------------------------------
def test_logistic_head_solves_its_objective() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 5)) * [1, 10, 0.1, 1, 1] + [0, 5, 0, 0, 0]
    y = np.argmax(((x - x.mean(0)) / x.std(0)) @ rng.normal(size=(5, 3)), axis=1)  # linear
    l2 = 0.05
    h = LogisticHead.fit(x, y, 3, l2=l2)
    # the gradient of mean cross-entropy + l2/2 |W|^2 vanishes at the optimum (independent
    # numpy computation of it)
    z = (x - x.mean(0)) / x.std(0)
    logits = z @ h.weight + h.bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(3)[y]
    grad_w = z.T @ (p - onehot) / len(y) + l2 * h.weight
    grad_b = (p - onehot).sum(0) / len(y)
    assert np.abs(grad_w).max() < 1e-5 and np.abs(grad_b).max() < 1e-5
    np.testing.assert_allclose(np.exp(h.log_proba(x)).sum(1), 1.0, atol=1e-12)
    assert (h.log_proba(x).argmax(1) == y).mean() > 0.9


def test_logistic_head_refuses_bad_input() -> None:
    x = np.zeros((4, 2))
    with pytest.raises(ConfigError, match="no example"):
        LogisticHead.fit(x, [0, 0, 0, 0], 2, l2=1.0)
    with pytest.raises(ConfigError, match="NaN"):
        LogisticHead.fit(np.full((2, 2), np.nan), [0, 1], 2, l2=1.0)
    with pytest.raises(ConfigError, match="features per row"):
        LogisticHead.fit(np.eye(2), [0, 1], 2, l2=1.0).logits(np.zeros((1, 3)))


def _record(label: str, n: int, examples: list[int], value: float) -> EnrolledLabel:
    rng = np.random.default_rng(len(label))
    ex = np.repeat(np.arange(len(examples)), examples)
    feats = rng.normal(value, 0.1, size=(ex.size, 3))
    emb = rng.normal(size=(ex.size, 4))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return EnrolledLabel.now(label, emb, feats, ex, np.zeros(ex.size), "test")


def test_every_example_weighs_the_same_however_long() -> None:
    # "long" has one 40-window example sitting at 1.0 and one 1-window example at 1.0;
    # the head must treat the two examples alike, which the weights show as equal sums
    a = _record("a", 0, [40, 1], 1.0)
    b = _record("b", 0, [2, 2], -1.0)
    head = FewShotHead.fit([a, b])
    assert head.labels == ("a", "b")
    assert head.log_proba(np.full((1, 3), 1.0)).argmax() == 0
    assert head.log_proba(np.full((1, 3), -1.0)).argmax() == 1
    with pytest.raises(ConfigError, match="at least two"):
        FewShotHead.fit([a])


# -- statistics ---------------------------------------------------------------------------------
def test_window_statistics_measure_what_they_say() -> None:
    t = np.arange(250) / RATE
    still = np.zeros((250, 6))
    still[:, 2] = 9.81
    walk = still.copy()
    walk[:, 2] += 3.0 * np.sin(2 * np.pi * 2.0 * t)  # 2 Hz bounce along gravity
    walk[:, 4] += 1.0 * np.sin(2 * np.pi * 2.0 * t)
    s = window_statistics(np.stack([still, walk]), RATE)
    assert s.shape == (2, n_statistics())
    np.testing.assert_allclose(s[0, :3], [0, 0, 1], atol=1e-12)  # gravity along z
    np.testing.assert_allclose(s[0, 3:6], [0, 0, 1], atol=1e-12)
    assert s[0, 6] == pytest.approx(np.log(1e-3))  # a constant axis: log of the floor
    # dominant frequency of the acceleration magnitude: the 2 Hz bounce along gravity; the
    # rotation rate's magnitude |sin| shows twice the rate, 4 Hz
    band = 3 + 3 + 6 + 6 + 3
    assert s[1, band + 16] == pytest.approx(2.0, abs=0.21)
    assert s[1, band + 33] == pytest.approx(4.0, abs=0.21)
    # raw means are the last-but-two block: z mean 9.81
    assert s[0, -18 + 2] == pytest.approx(9.81)
    with pytest.raises(ValueError, match=r"\(N, T, 6\)"):
        window_statistics(np.zeros((2, 10)), RATE)


# -- scoring ----------------------------------------------------------------------------------
def test_scorer_shares_the_enrolled_mass_by_the_head() -> None:
    protos = np.eye(3, 4, dtype=np.float32)
    head = FewShotHead.fit([_record("a", 0, [3], 1.0), _record("b", 0, [3], -1.0)])
    sc = Scorer(["a", "b", "text"], protos, 0.1, -1.0, 0.0, head=head)
    emb = np.array([[0.2, 0.1, 0.9, 0.0]])
    cos, p = sc.score(emb, np.full((1, 3), -1.0))
    zs = np.exp(cos[0] / 0.1)
    zs /= zs.sum()
    assert p[0, 2] == pytest.approx(zs[2])  # the text label keeps its zero-shot share
    assert p[0, 0] + p[0, 1] == pytest.approx(zs[0] + zs[1])
    assert p[0, 1] > p[0, 0]  # the head, not the cosine, orders the enrolled two
    with pytest.raises(ConfigError, match="feature rows"):
        sc.score(emb)
    # a whole recording: the head's window log-probabilities are averaged
    _, pr = sc.score_recording(np.repeat(emb, 4, 0), np.full((4, 3), -1.0))
    np.testing.assert_allclose(pr, p[0], atol=1e-12)


# -- the model ------------------------------------------------------------------------------------
def _toy(label: str, seed: int) -> np.ndarray:
    return toy_windows(label, 3, WINDOW, RATE, seed=seed).reshape(-1, 6).astype(np.float64)


def test_enrolled_labels_are_decided_by_the_head_in_classify_and_live(bundle_path, tmp_path
                                                                      ) -> None:
    m = load_bundle(bundle_path, precision="fp32")
    for name, src in (("calm", "still"), ("brisk", "running"), ("stroll", "walking")):
        m.enroll(name, [_toy(src, s) for s in (1, 2)], SI, persist=False)
    scorer = m.scorer(["calm", "brisk", "stroll"])
    assert scorer.head is not None and scorer.head.labels == ("calm", "brisk", "stroll")
    for name, src in (("calm", "still"), ("brisk", "running"), ("stroll", "walking")):
        probs = m.classify(_toy(src, 7), SI, labels=["calm", "brisk", "stroll"])
        assert next(iter(probs)) == name, probs
        assert sum(probs.values()) == pytest.approx(1.0)
    # one scoring path: the live recogniser labels each window as classify labels it alone
    rec_path = tmp_path / "brisk.npz"
    from aura_sdk._recording import Recording, write_recording

    x = _toy("running", 9)
    t = np.arange(len(x)) / RATE
    write_recording(rec_path, Recording(t=t, acc=x[:, :3], gyro=x[:, 3:]))
    rec = LiveRecognizer(m, labels=["calm", "brisk", "stroll"], smoothing="none",
                         hop_s=WINDOW / RATE)
    rec.add_replay(str(rec_path), realtime=False)
    events = [e for e in rec if hasattr(e, "label")]
    assert events and all(e.label == "brisk" for e in events)
    assert len(events) == len(x) // WINDOW
    for k, e in enumerate(events):  # windows follow each other (hop = one window)
        alone = m.classify(x[k * WINDOW: (k + 1) * WINDOW], SI,
                           labels=["calm", "brisk", "stroll"])
        assert alone["brisk"] == pytest.approx(e.confidence, abs=1e-4)


def test_enrolling_into_the_embedded_default_writes_nothing_in_the_package() -> None:
    import aura_sdk

    pkg = Path(aura_sdk.__file__).parent

    def listing() -> dict[str, float]:
        return {str(p): p.stat().st_mtime for p in pkg.rglob("*") if "__pycache__" not in p.parts}

    before = listing()
    m = load_bundle()
    spec = SensorSpec(sample_rate_hz=50.0)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (400, 6))
    x[:, 2] += 9.81
    m.enroll("my exercise", [x], spec)
    assert listing() == before
    home = Path(os.environ["AURA_HOME"])
    assert m.enrollment_dir.is_relative_to(home)
    assert len(list(m.enrollment_dir.glob("*.npz"))) == 1
    assert "my exercise" in load_bundle().enrolled_labels


def test_loading_the_embedded_default_prints_nothing() -> None:
    code = "from aura_sdk import load_bundle; load_bundle(); load_bundle()"
    out = subprocess.run([sys.executable, "-W", "error", "-c",
                          "import logging; logging.basicConfig(level=logging.WARNING); " + code],
                         capture_output=True, text=True, check=True)
    assert out.stdout == "" and out.stderr == ""


def test_encoder_features_can_be_left_out_and_are_stored_apart() -> None:
    from aura_sdk.fewshot import n_statistics

    full = load_bundle()
    assert full.feature_layout == f"stats1+features{full.manifest.encoder.features_dim}"
    stats_only = load_bundle(encoder_features=False)
    assert stats_only.feature_layout == "stats1"
    x = np.random.default_rng(1).normal(size=(2, 250, 6)).astype(np.float32)
    _, f_full = full.encode_windows(x)
    _, f_stats = stats_only.encode_windows(x)
    assert f_stats is not None and f_stats.shape == (2, n_statistics())
    assert f_full is not None and f_full.shape == (2, n_statistics() + 128)
    np.testing.assert_allclose(f_full[:, : n_statistics()], f_stats, rtol=1e-6)
    rng = np.random.default_rng(0)
    rec = rng.normal(0, 0.3, (400, 6))
    rec[:, 2] += 9.81
    stats_only.enroll("x", [rec], SensorSpec(sample_rate_hz=50.0))
    assert stats_only.enrollment_dir != full.enrollment_dir
    assert "x" not in load_bundle().enrolled_labels
    assert "x" in load_bundle(encoder_features=False).enrolled_labels
