"""Smoothing and unknown rejection (aura_sdk._scoring)."""

import numpy as np
import pytest

from aura_sdk import ConfigError
from aura_sdk._scoring import UNKNOWN, HmmFilter, MovingAverage, Scorer, make_smoother


def _scorer(threshold: float = 0.5, margin: float = 0.05) -> Scorer:
    return Scorer(["a", "b", "c"], np.eye(3, 4, dtype=np.float32), 0.1, threshold, margin)


def test_probabilities_follow_temperature_softmax() -> None:
    s = _scorer()
    cos = s.similarities(np.array([[1.0, 0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(cos, [[1.0, 0.0, 0.0]])
    p = s.probabilities(cos)[0]
    e = np.exp(10.0)
    np.testing.assert_allclose(p, [e / (e + 2), 1 / (e + 2), 1 / (e + 2)])


def test_decide_rejects_low_similarity_and_small_margins() -> None:
    s = _scorer(threshold=0.5, margin=0.05)
    clear = np.array([0.9, 0.2, 0.1])
    d = s.decide(clear, s.probabilities(clear))
    assert d.label == "a" and not d.unknown and d.top_k[0][0] == "a"
    weak = np.array([0.4, 0.2, 0.1])
    assert s.decide(weak, s.probabilities(weak)).label == UNKNOWN
    tie = np.array([0.8, 0.78, 0.1])
    d = s.decide(tie, s.probabilities(tie))
    assert d.unknown and d.similarity == pytest.approx(0.8)


def test_hmm_holds_a_label_through_one_contrary_window_and_switches_on_evidence() -> None:
    h = HmmFilter(stay=0.95)
    a, b = np.array([0.9, 0.05, 0.05]), np.array([0.2, 0.75, 0.05])
    for _ in range(5):
        out = h.update(a)
    assert np.argmax(h.update(b)) == 0  # one contrary window: still "a"
    for _ in range(4):
        out = h.update(b)
    assert np.argmax(out) == 1  # sustained evidence: switched
    assert out.sum() == pytest.approx(1.0)


def test_moving_average_is_the_mean_of_the_last_n() -> None:
    m = MovingAverage(2)
    m.update(np.array([1.0, 0.0]))
    m.update(np.array([0.0, 1.0]))
    np.testing.assert_allclose(m.update(np.array([0.0, 1.0])), [0.0, 1.0])


def test_make_smoother_rejects_unknown_names_and_options() -> None:
    with pytest.raises(ConfigError, match="unknown smoothing"):
        make_smoother("kalman")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="hmm"):
        make_smoother("hmm", bogus=1.0)
