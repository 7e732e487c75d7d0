"""Where the sensor is worn, as an encoder's second input: bundle checks, AuraModel, live.

The bundles here are the toy bundle with a placement input spliced into its ONNX graphs (a
learned vector per placement added before the output's normalisation, row 0 "not said"
zero), the shape of input ``aura export`` writes for a placement encoder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from live_support import RATE, WINDOW, session
from placement_support import DIM, placement_bundle, reseal

from aura_export import write_example_bundle
from aura_sdk import (
    BundleError,
    ConfigError,
    LabelEvent,
    LiveRecognizer,
    SensorSpec,
    load_bundle,
)
from aura_sdk.bundle import read_bundle, verify_bundle
from aura_sdk.bundle._manifest import EncoderSpec
from aura_sdk.preprocessing import PreprocessConfig, preprocess

KNOWN = ("wrist", "waist")
TOY = {"unknown_margin": 0.001}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A toy bundle directory whose encoders read a placement (wrist, waist)."""
    root = placement_bundle(tmp_path_factory.mktemp("placement") / "toy", KNOWN, seed=1,
                            window=WINDOW, rate=RATE)
    return root


@pytest.fixture(scope="module")
def model(template):
    return load_bundle(str(template), precision="fp32")


def _copy(template: Path, tmp_path: Path) -> Path:
    out = tmp_path / "b"
    shutil.copytree(template, out)
    return out


def _windows(seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    rec = session(["walking", "still"], seconds / 2, seed=seed)
    return np.column_stack([rec.acc, rec.gyro])


def test_a_placement_bundle_loads_and_says_its_placements(model) -> None:
    assert model.placements == KNOWN
    assert model.manifest.encoder.placement_name == "placement"
    assert set(KNOWN) <= set(SensorSpec.PLACEMENTS)


def test_the_placement_changes_the_embedding_and_unknown_ones_read_not_said(model) -> None:
    x = model.windows(_windows(), SensorSpec(sample_rate_hz=RATE)).x
    none = model.embed_windows(x)
    waist = model.embed_windows(x, "waist")
    wrist = model.embed_windows(x, "wrist")
    pocket = model.embed_windows(x, "pocket")  # a placement this encoder does not know
    assert np.abs(waist - none).max() > 0.05
    assert np.abs(waist - wrist).max() > 0.05
    np.testing.assert_array_equal(pocket, none)
    # one placement per window, mixed, equals the per-placement calls row by row
    mixed = model.embed_windows(x, ["waist" if i % 2 else None for i in range(len(x))])
    np.testing.assert_allclose(mixed[1::2], waist[1::2], atol=1e-6)
    np.testing.assert_allclose(mixed[0::2], none[0::2], atol=1e-6)


def test_bad_placements_are_refused_with_the_fix(model) -> None:
    x = model.windows(_windows(), SensorSpec(sample_rate_hz=RATE)).x
    with pytest.raises(ConfigError, match="placements for"):
        model.embed_windows(x, ["waist"] * (len(x) + 1))
    with pytest.raises(ConfigError, match="not one of"):
        model.embed_windows(x, "ankle")
    with pytest.raises(ValueError, match="not one of"):
        SensorSpec(sample_rate_hz=RATE, placement="ankle")
    with pytest.raises(ConfigError, match="not one of"):
        LiveRecognizer(model=model).add_replay(session(["still"], 4.0), placement="ankle")


def test_classify_embed_and_enroll_read_the_spec_placement(model) -> None:
    imu = _windows()
    plain = SensorSpec(sample_rate_hz=RATE)
    waist = SensorSpec(sample_rate_hz=RATE, placement="waist")
    e_plain, e_waist = model.embed(imu, plain), model.embed(imu, waist)
    assert float(e_plain @ e_waist) < 0.999
    x = model.windows(imu, waist).x
    ref = model.embed_windows(x, "waist").mean(axis=0)
    np.testing.assert_allclose(e_waist, ref / np.linalg.norm(ref), atol=1e-5)
    p_plain, p_waist = model.classify(imu, plain), model.classify(imu, waist)
    assert any(abs(p_plain[k] - p_waist[k]) > 1e-4 for k in p_plain)


def test_a_bundle_whose_onnx_lacks_the_declared_placement_input_is_refused(
        template, tmp_path) -> None:
    root = _copy(template, tmp_path)
    files = json.loads((root / "manifest.json").read_text())["encoder"]["files"]
    fresh = tmp_path / "plain"
    write_example_bundle(fresh, window_samples=WINDOW, sample_rate_hz=RATE, embedding_dim=DIM,
                         precisions=("fp32", "int8"))
    for name in {v for v in files.values() if v}:
        shutil.copy(fresh / name, root / name)
    reseal(root, lambda d: None)
    with pytest.raises(BundleError, match="placement"):
        read_bundle(root)
    # and the other way round: an encoder with the input, a manifest that does not say so
    root2 = _copy(template, tmp_path / "two")

    def drop(d):
        del d["encoder"]["placement_name"]
        del d["encoder"]["placements"]

    reseal(root2, drop)
    report = verify_bundle(root2)
    assert not report.ok
    assert any("inputs" in str(d) for d in report.defects)


def test_a_table_shorter_than_the_manifest_list_fails_the_probe(template, tmp_path) -> None:
    root = _copy(template, tmp_path)
    reseal(root, lambda d: d["encoder"].__setitem__("placements", ["wrist", "waist", "pocket"]))
    with pytest.raises(BundleError):
        read_bundle(root)


def test_manifest_placement_fields_go_together() -> None:
    files = {"fp32": "e.onnx"}
    with pytest.raises(ValueError, match="go together"):
        EncoderSpec(files=files, embedding_dim=4, window_shape=(10, 6),
                    placement_name="placement")
    with pytest.raises(ValueError, match="go together"):
        EncoderSpec(files=files, embedding_dim=4, window_shape=(10, 6), placements=("waist",))
    with pytest.raises(ValueError, match="distinct"):
        EncoderSpec(files=files, embedding_dim=4, window_shape=(10, 6),
                    placement_name="placement", placements=("waist", "waist"))
    spec = EncoderSpec(files=files, embedding_dim=4, window_shape=(10, 6),
                       placement_name="placement", placements=("wrist", "waist"))
    assert [spec.placement_id(p) for p in (None, "wrist", "waist", "pocket")] == [0, 1, 2, 0]


def test_live_streams_feed_their_own_placement_in_a_shared_batch(model) -> None:
    """Two replays of one recording, one said to be at the waist, batched together: each
    event's similarity is the one its own placement gives offline."""
    rec = session(["walking", "waving"], 6.0)
    recog = LiveRecognizer(model=model, smoothing="none", **TOY)
    recog.add_replay(rec, realtime=False, name="belt", placement="waist")
    recog.add_replay(rec, realtime=False, name="free")
    events = [e for e in recog if isinstance(e, LabelEvent)]
    assert recog.inference_calls < recog.inference_windows  # the streams shared batches
    pre = preprocess(np.column_stack([rec.acc, rec.gyro]), SensorSpec(sample_rate_hz=RATE),
                     model.input_spec, t=rec.t,
                     config=PreprocessConfig(hop_samples=recog.preprocess_config.hop_samples))
    labels = list(recog.scorer.labels)
    protos = model.prototype_matrix(labels)
    for name, where in (("belt", "waist"), ("free", None)):
        mine = [e for e in events if e.stream == name]
        assert len(mine) == len(pre)
        cos = model.embed_windows(pre.x, where) @ protos.T
        want = [cos[i, labels.index(e.label)] for i, e in enumerate(mine)
                if e.label in labels]
        got = [e.similarity for e in mine if e.label in labels]
        np.testing.assert_allclose(got, want, atol=1e-4)
    belt = [e.similarity for e in events if e.stream == "belt"]
    free = [e.similarity for e in events if e.stream == "free"]
    assert max(abs(a - b) for a, b in zip(belt, free, strict=True)) > 1e-3


def test_the_encoder_benchmark_feeds_a_placement_input(template) -> None:
    """`aura bench`'s raw encoder rows time bundles whose encoder reads a placement (the
    shipped default does): a session fed only the IMU input is refused by onnxruntime."""
    from aura_bench._worker import run_job

    for precision in ("fp32", "int8"):
        res = run_job({"job": "ort", "bundle": str(template), "precision": precision,
                       "batches": [1, 4], "warmup": 1, "max_reps": 6, "budget_s": 0.5})
        assert res["status"] == "ok", res
        assert [r["batch"] for r in res["batches"]] == [1, 4]
