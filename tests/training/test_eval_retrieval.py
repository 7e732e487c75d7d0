"""Retrieval metrics against hand-computed answers: ranks, ties, duplicates, both ways."""

from __future__ import annotations

import numpy as np
import pytest

from aura_sdk import ConfigError
from aura_training.eval import cross_modal_retrieval, retrieval_from_scores, retrieval_metrics


def test_first_relevant_rank_gives_mrr_and_recall() -> None:
    scores = np.array([
        [0.9, 0.1, 0.5, 0.3],   # id 0 -> target 0 is best: rank 1
        [0.8, 0.2, 0.6, 0.7],   # id 1 -> targets 1 and 3; best 0.7, only 0.8 ahead: rank 2
        [0.3, 0.9, 0.1, 0.95],  # id 2 -> target 2 (0.1): three ahead: rank 4
    ])  # fmt: skip
    m = retrieval_from_scores(scores, [0, 1, 2], [0, 1, 2, 1], ks=(1, 2, 3, 4))
    assert m.mrr == pytest.approx((1 + 1 / 2 + 1 / 4) / 3)
    assert m.recall == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 2 / 3, 4: 1.0})
    assert m.mean_rank == pytest.approx(7 / 3)
    assert (m.n_queries, m.n_targets) == (3, 4)
    assert m.as_dict()["r@2"] == pytest.approx(2 / 3)


def test_ties_count_at_their_expected_rank() -> None:
    # one relevant tied with two others: positions 1, 2, 3 with probability 1/3 each
    m = retrieval_from_scores([[0.5, 0.5, 0.5, 0.1]], [7], [7, 1, 2, 3], ks=(1, 2))
    assert m.mrr == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert m.recall == pytest.approx({1: 1 / 3, 2: 2 / 3})
    assert m.mean_rank == pytest.approx(2.0)
    # two relevant among four tied: first hit at 1, 2, 3 with 1/2, 1/3, 1/6
    m = retrieval_from_scores([[0.5, 0.5, 0.5, 0.5]], [1], [1, 1, 0, 2], ks=(1, 2))
    assert m.mrr == pytest.approx(1 / 2 + 1 / 3 / 2 + 1 / 6 / 3)
    assert m.recall == pytest.approx({1: 1 / 2, 2: 5 / 6})
    assert m.mean_rank == pytest.approx(1 / 2 + 2 / 3 + 3 / 6)
    # a tie behind a strictly better non-relevant target shifts every position by one
    m = retrieval_from_scores([[0.9, 0.5, 0.5]], [0], [1, 0, 2], ks=(1, 2, 3))
    assert m.recall == pytest.approx({1: 0.0, 2: 0.5, 3: 1.0})
    assert m.mrr == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_tied_and_untied_rows_in_one_matrix() -> None:
    m = retrieval_from_scores([[0.9, 0.1, 0.5], [0.5, 0.5, 0.1], [0.2, 0.3, 0.6]],
                              ks=(1, 2))
    # row 0: rank 1; row 1: tied with target 0 -> 1 or 2; row 2: rank 1
    assert m.mrr == pytest.approx((1 + 0.75 + 1) / 3)
    assert m.recall == pytest.approx({1: (1 + 0.5 + 1) / 3, 2: 1.0})


def test_collapsed_model_scores_chance_not_perfect() -> None:
    # every embedding identical: all ties; a sort would hand out R@1 = 1 for free
    n = 5
    m = retrieval_metrics(np.ones((n, 4)), np.ones((n, 4)), ks=(1, 10))
    assert m.mrr == pytest.approx(sum(1 / k for k in range(1, n + 1)) / n)
    assert m.recall[1] == pytest.approx(1 / n)
    assert m.recall[10] == 1.0
    assert m.mean_rank == pytest.approx((n + 1) / 2)


def test_duplicate_captions_any_copy_counts() -> None:
    imu = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    text = np.array([[0.95, 0.05], [0.95, 0.05], [0.1, 1.0]])  # windows 0 and 1 share a caption
    by_caption = cross_modal_retrieval({"imu": imu, "text": text}, ids={"text": [4, 4, 9]},
                                       ks=(1,))
    assert by_caption["imu->text"].mrr == 1.0 and by_caption["text->imu"].recall[1] == 1.0
    # by window index the two copies tie: each IMU query of the pair lands at 1.5 on average
    by_window = cross_modal_retrieval({"imu": imu, "text": text}, ks=(1,))
    assert by_window["imu->text"].mrr == pytest.approx((0.75 + 0.75 + 1) / 3)
    assert by_window["imu->text"].recall[1] == pytest.approx((0.5 + 0.5 + 1) / 3)


def test_every_direction_between_modalities_and_missing_rows() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 8))
    emb = {"imu": base, "video": base + 0.01 * rng.normal(size=(6, 8)),
           "mocap": base[::-1].copy()}
    present = {"mocap": np.array([1, 1, 1, 1, 0, 0], dtype=bool)}
    out = cross_modal_retrieval(emb, present=present, ks=(1,))
    assert list(out) == ["imu->video", "imu->mocap", "video->imu", "video->mocap",
                         "mocap->imu", "mocap->video"]
    assert out["imu->video"].mrr == 1.0 and out["video->imu"].mrr == 1.0
    assert out["imu->mocap"].n_queries == out["imu->mocap"].n_targets == 4
    assert out["imu->video"].n_targets == 6
    assert out["imu->mocap"].mrr < 1.0  # reversed rows: mismatched on purpose


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match="no relevant target"):
        retrieval_from_scores([[0.1, 0.2]], [3], [1, 2])
    with pytest.raises(ConfigError, match="NaN"):
        retrieval_metrics(np.full((2, 3), np.nan), np.ones((2, 3)))
    with pytest.raises(ConfigError, match="one embedding space"):
        retrieval_metrics(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ConfigError, match="two modalities"):
        cross_modal_retrieval({"imu": np.ones((2, 3))})
    with pytest.raises(ConfigError, match=">= 1"):
        retrieval_from_scores(np.eye(2), ks=(0,))
