"""Zero-shot classification: prototypes, macro-F1 and confusion counts by hand, the PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from plot_support import pixels_of_rate, read_confusion_png

from aura_sdk import ConfigError
from aura_training.eval import (
    classification_metrics,
    confusion_matrix,
    label_prototypes,
    plot_confusion,
    zero_shot_predict,
    zero_shot_scores,
)


def test_macro_f1_by_hand() -> None:
    m = classification_metrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ["a", "b", "c"])
    # a: P 2/2, R 2/3 -> F1 0.8;  b: P 1/2, R 1/2 -> 0.5;  c: P 1/2, R 1/1 -> 2/3
    np.testing.assert_allclose(m.precision, [1.0, 0.5, 0.5])
    np.testing.assert_allclose(m.recall, [2 / 3, 0.5, 1.0])
    np.testing.assert_allclose(m.f1, [0.8, 0.5, 2 / 3])
    assert m.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m.accuracy == pytest.approx(4 / 6)
    np.testing.assert_array_equal(m.support, [3, 2, 1])
    d = m.as_dict()
    assert d["per_class"]["c"] == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1, "predicted": 2})
    assert d["chance"] == pytest.approx(1 / 3) and d["n"] == 6


def test_macro_f1_averages_classes_seen_in_truth_or_predictions() -> None:
    # "d" never occurs and is never predicted: left out of the mean
    m = classification_metrics([0, 0, 1], [0, 0, 1], ["a", "b", "c", "d"])
    assert m.macro_f1 == 1.0
    # "c" is predicted but never true: F1 0 and it counts
    m = classification_metrics([0, 0, 1], [0, 2, 1], ["a", "b", "c"])
    assert m.f1[2] == 0.0
    assert m.macro_f1 == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)


def test_confusion_counts_rows_true_columns_predicted() -> None:
    c = confusion_matrix([0, 0, 1, 2, 2, 2], [1, 1, 1, 0, 2, 2], 3)
    np.testing.assert_array_equal(c, [[0, 2, 0], [0, 1, 0], [1, 0, 2]])
    assert c.dtype == np.int64
    with pytest.raises(ConfigError, match="outside"):
        confusion_matrix([0, 3], [0, 0], 3)
    with pytest.raises(ConfigError, match="no windows"):
        classification_metrics([], [], ["a"])


def test_prototype_is_mean_of_normalised_prompts_renormalised() -> None:
    # a raw mean of [4, 0] and [0, 1] would lean to x; normalising first weighs them equally
    protos = label_prototypes([np.array([[4.0, 0.0], [0.0, 1.0]]), np.array([[0.0, -3.0]])])
    np.testing.assert_allclose(protos, [[2 ** -0.5, 2 ** -0.5], [0.0, -1.0]])
    np.testing.assert_allclose(np.linalg.norm(protos, axis=1), 1.0)
    with pytest.raises(ConfigError, match="n_prompts"):
        label_prototypes([np.zeros((0, 2))])


def test_zero_shot_picks_the_nearest_prototype_by_cosine() -> None:
    protos = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    x = np.array([[10.0, 1.0], [0.2, 3.0], [-1.0, -0.5]])  # scale must not matter
    np.testing.assert_array_equal(zero_shot_predict(x, protos), [0, 1, 2])
    s = zero_shot_scores(x, protos)
    assert s[0, 0] == pytest.approx(10 / np.hypot(10, 1))


def test_confusion_png_shows_the_row_normalised_rates(tmp_path: Path) -> None:
    c = np.array([[3, 1], [2, 4]])  # rows of 4 and 6, columns of 5 and 5
    path = plot_confusion(c, ["walking", "running"], tmp_path / "sub" / "cm.png", title="t")
    n, rgb = read_confusion_png(path)
    assert n == 2
    # Each cell (about 130 x 130 pixels) is filled with the colour of its row's rate; the
    # colour bar alone holds a few hundred pixels of any one colour.
    centre = {}
    for rate in (3 / 4, 1 / 4, 1 / 3, 2 / 3):
        mask = pixels_of_rate(rgb, rate)
        assert mask.sum() > 10_000, rate
        rows, cols = np.nonzero(mask)
        centre[rate] = (rows.mean(), cols.mean())
    assert pixels_of_rate(rgb, 0.5).sum() < 2_000  # no cell is at one half
    # true class down the rows, predicted class along the columns
    assert centre[3 / 4][0] < centre[1 / 3][0] and centre[1 / 4][0] < centre[2 / 3][0]
    assert centre[3 / 4][1] < centre[1 / 4][1] and centre[1 / 3][1] < centre[2 / 3][1]
    with pytest.raises(ConfigError, match="does not match"):
        plot_confusion(c, ["one"], tmp_path / "bad.png")
