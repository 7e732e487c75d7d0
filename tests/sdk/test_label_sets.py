"""Label sets on the device: AuraModel.resolve_labels and everything that takes ``labels``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from live_support import RATE, WINDOW, session

from aura_export import toy_windows, with_label_sets, write_example_bundle
from aura_sdk import AuraModel, ConfigError, LiveRecognizer, SensorSpec, load_bundle
from aura_sdk._recording import write_recording
from aura_sdk.cli import main
from aura_sdk.cli._live import labels_argument

SI = SensorSpec(sample_rate_hz=RATE)
EVERYDAY = ("still", "walking")
SPORT = ("running", "waving", "walking")
TOY = ["--unknown-margin", "0.001", "--smoothing", "none"]


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("sets")
    plain = d / "plain.aura"
    write_example_bundle(plain, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=32)
    sets = d / "sets.aura"
    with_label_sets(plain, sets, {"everyday": EVERYDAY, "sport": SPORT})
    write_recording(d / "session.npz", session(["still", "walking", "running", "waving"], 6.0))
    return {"plain": plain, "sets": sets, "session": d / "session.npz"}


@pytest.fixture()
def model(paths: dict[str, Path]) -> AuraModel:
    return load_bundle(paths["sets"], precision="fp32")


def _recording(label: str) -> np.ndarray:
    return toy_windows(label, 3, WINDOW, RATE, seed=5).reshape(-1, 6).astype(np.float64)


def test_label_sets_are_the_bundles_plus_all(model: AuraModel) -> None:
    assert dict(model.label_sets) == {"everyday": EVERYDAY, "sport": SPORT,
                                      "all": ("still", "walking", "running", "waving")}
    assert model.default_label_set == "everyday"
    with pytest.raises(TypeError):
        model.label_sets["mine"] = ("still",)  # type: ignore[index]


def test_a_bundle_without_sets_defaults_to_all(paths: dict[str, Path]) -> None:
    m = load_bundle(paths["plain"], precision="fp32")
    assert list(m.label_sets) == ["all"] and m.default_label_set == "all"
    assert m.resolve_labels(None) == ["still", "walking", "running", "waving"]
    assert list(m.classify(_recording("running"), SI))[0] == "running"


def test_resolution_of_none_a_set_name_and_words(model: AuraModel) -> None:
    assert model.resolve_labels(None) == list(EVERYDAY)
    assert model.resolve_labels() == list(EVERYDAY)
    assert model.resolve_labels("sport") == list(SPORT)
    assert model.resolve_labels("all") == ["still", "walking", "running", "waving"]
    # words are taken as given: bundle labels, enrolled ones or free text, in the given order
    assert model.resolve_labels(["waving", "a person juggling"]) == ["waving",
                                                                       "a person juggling"]
    assert model.resolve_labels(("sport",)) == ["sport"]  # a one-element list is a label


@pytest.mark.parametrize(("labels", "match"), [
    ("walking", r"not a label set.*\['all', 'everyday', 'sport'\].*labels=\['walking'\]"),
    ("Sport", "one-element list"),
    ([], "labels is empty"),
    (["walking", "walking"], "unique"),
    (["walking", ""], "non-empty strings"),
    ([3], "non-empty strings"),
])
def test_resolution_refuses(model: AuraModel, labels: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        model.resolve_labels(labels)  # type: ignore[arg-type]


def test_enrolled_labels_join_the_default_set_only(model: AuraModel) -> None:
    model.enroll("my move", [_recording("running")], SI, persist=False)
    assert model.resolve_labels(None) == [*EVERYDAY, "my move"]
    assert model.resolve_labels("everyday") == list(EVERYDAY)
    assert model.resolve_labels("all")[-1] == "my move"
    assert set(model.classify(_recording("running"), SI)) == {*EVERYDAY, "my move"}


def test_classify_and_friends_are_restricted_to_the_set(model: AuraModel) -> None:
    x = _recording("running")
    assert set(model.classify(x, SI)) == set(EVERYDAY)
    probs = model.classify(x, SI, labels="sport")
    assert set(probs) == set(SPORT) and list(probs)[0] == "running"
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    everything = model.prototype_matrix("all")
    np.testing.assert_array_equal(model.prototype_matrix("sport"), everything[[2, 3, 1]])
    np.testing.assert_array_equal(model.prototype_matrix(), everything[[0, 1]])
    emb = model.embed(x, SI)[None, :]
    p = model.probabilities(emb, "sport")
    assert p.shape == (1, 3)
    np.testing.assert_allclose(p, model.probabilities(emb, list(SPORT)))
    with pytest.raises(ConfigError, match="not a label set"):
        model.classify(x, SI, labels="running")


def test_live_recognizer_scores_the_default_set(model: AuraModel) -> None:
    assert LiveRecognizer(model).scorer.labels == EVERYDAY
    assert LiveRecognizer(model, labels="sport").scorer.labels == SPORT
    assert LiveRecognizer(model, labels="all").scorer.labels == model.labels
    assert LiveRecognizer(model, labels=["waving", "still"]).scorer.labels == ("waving", "still")
    with pytest.raises(ConfigError, match="not a label set"):
        LiveRecognizer(model, labels="dancing")


def test_labels_argument_of_the_cli(model: AuraModel) -> None:
    assert labels_argument(model, None, None) is None
    assert labels_argument(model, "", None) is None
    assert labels_argument(model, "sport", None) == "sport"
    assert labels_argument(model, " all ", None) == "all"
    assert labels_argument(model, None, "sport") == "sport"
    assert labels_argument(model, "walking", None) == ["walking"]  # no set of that name
    assert labels_argument(model, "running, waving,", None) == ["running", "waving"]
    assert labels_argument(model, "sport,still", None) == ["sport", "still"]
    with pytest.raises(ConfigError, match="not both"):
        labels_argument(model, "walking", "sport")
    with pytest.raises(ConfigError, match="names no label"):
        labels_argument(model, " , ", None)


def _live(paths: dict[str, Path], capsys: pytest.CaptureFixture[str], *extra: str
          ) -> tuple[int, list[dict[str, object]], str]:
    capsys.readouterr()
    rc = main(["live", "--replay", str(paths["session"]), "--bundle", str(paths["sets"]),
               "--json", "--fast", *TOY, *extra])
    got = capsys.readouterr()
    return rc, [json.loads(x) for x in got.out.splitlines()], got.err


@pytest.mark.parametrize(("extra", "labels", "said"), [
    ((), EVERYDAY, "default label set 'everyday'"),
    (("--labels", "sport"), SPORT, "label set 'sport'"),
    (("--label-set", "sport"), SPORT, "label set 'sport'"),
    (("--labels", "all"), ("still", "walking", "running", "waving"), "label set 'all'"),
    (("--labels", "running,waving"), ("running", "waving"), "the given labels"),
])
def test_aura_live_label_options(paths: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                 extra: tuple[str, ...], labels: tuple[str, ...],
                                 said: str) -> None:
    rc, events, err = _live(paths, capsys, *extra)
    assert rc == 0 and len(events) == 23
    assert f"scoring {len(labels)} labels ({said})" in err
    for ev in events:
        assert {name for name, _ in ev["top_k"]} <= set(labels)  # type: ignore[union-attr]
    if "waving" in labels:
        assert events[-1]["label"] == "waving"


def test_aura_live_refuses_an_unknown_set_and_both_options(
        paths: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _live(paths, capsys, "--label-set", "gym")
    assert rc == 1 and "not a label set" in err and "everyday" in err
    rc, _, err = _live(paths, capsys, "--label-set", "sport", "--labels", "walking")
    assert rc == 1 and "not both" in err
