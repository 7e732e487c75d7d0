"""Smoothing and unknown rejection (aura_sdk._scoring)."""

import numpy as np
import pytest

from aura_sdk import ConfigError
from aura_sdk._scoring import UNKNOWN, HmmFilter, MovingAverage, Scorer, make_smoother
from aura_sdk.fewshot import EnrolledLabel, FewShotHead


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


def test_decide_all_is_decide_row_by_row_with_and_without_a_head() -> None:
    rng = np.random.default_rng(11)
    protos = rng.normal(size=(4, 5))
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    records = []
    for k, name in enumerate(("c", "d")):  # two enrolled labels: the head decides between them
        ex = np.arange(6) % 2
        emb = rng.normal(size=(6, 5))
        feats = rng.normal(2.0 * k - 1.0, 0.3, size=(6, 3))
        records.append(EnrolledLabel.now(name, emb / np.linalg.norm(emb, axis=1,
                                                                      keepdims=True),
                                         feats, ex, np.zeros(6), "test"))
    head = FewShotHead.fit(records)
    emb = rng.normal(size=(200, 5))
    feats = rng.normal(0.0, 1.5, size=(200, 3))
    for sc in (Scorer("abcd", protos, 0.1, 0.1, 0.05),
               Scorer("abcd", protos, 0.1, 0.1, 0.05, head=head)):
        cos, p = sc.score(emb, feats if sc.head is not None else None)
        every = sc.decide_all(cos, p)
        one = [sc.decide(cos[i], p[i]) for i in range(len(emb))]
        assert len(every) == 200
        assert [sc.labels[b] for b in every.best] == [d.top_k[0][0] for d in one]
        assert every.unknown.tolist() == [d.unknown for d in one]
        assert every.similarity.tolist() == [d.similarity for d in one]
        # both rules reject some windows and keep others (the comparison means something)
        assert 0 < every.unknown.sum() < 200
        assert ((every.similarity < 0.1) & ~(every.margin < 0.05)).any()
        assert ((every.margin < 0.05) & ~(every.similarity < 0.1)).any()
    # with the head, an enrolled winner's margin is taken over the text labels only
    c = np.array([[0.1, 0.2, 0.5, 0.49]])
    both = np.array([[0.01, 0.01, 0.08, 0.9]])
    d = Scorer("abcd", protos, 0.1, 0.1, 0.05, head=head).decide_all(c, both)
    assert d.best[0] == 3 and d.margin[0] == pytest.approx(0.49 - 0.2) and not d.unknown[0]
    d = Scorer("abcd", protos, 0.1, 0.1, 0.05).decide_all(c, both)
    assert d.margin[0] == pytest.approx(-0.01) and d.unknown[0]
    # one label: no rival, an infinite margin
    one_label = Scorer(["a"], protos[:1], 0.1, 0.1, 0.05).decide_all([[0.5]], [[1.0]])
    assert one_label.margin[0] == np.inf and not one_label.unknown[0]
    with pytest.raises(ConfigError, match=r"\(N, 4\)"):
        Scorer("abcd", protos, 0.1, 0.1, 0.05).decide_all(c, both[:, :3])


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
