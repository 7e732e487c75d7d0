"""Calibration / validation windows (corpus, synthetic, arrays) and the frozen public API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_export_support import SPEC

import aura_export
from aura_export import WindowSet, as_window_set, corpus_windows, synthetic_windows
from aura_sdk import ConfigError, ModelInputSpec
from aura_sdk.preprocessing import preprocess
from aura_training.cli_data import main as data_main
from aura_training.corpus import CorpusReader


def test_synthetic_windows_are_seeded_labelled_and_preprocessed() -> None:
    a = synthetic_windows(SPEC, ["walking", "sitting"], clips_per_activity=2, seed=5)
    b = synthetic_windows(SPEC, ["walking", "sitting"], clips_per_activity=2, seed=5)
    c = synthetic_windows(SPEC, ["walking", "sitting"], clips_per_activity=2, seed=6)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x[:1], c.x[:1])
    assert a.x.shape[1:] == (250, 6) and a.x.dtype == np.float32
    assert a.labels is not None and set(a.labels) == {"walking", "sitting"}
    assert a.source == "synthetic(seed=5)"
    # a model that needs gravity gets raw specific force: |acc| averages near 9.8 m/s^2 still
    grav = ModelInputSpec(sample_rate_hz=50.0, window_samples=250, hop_samples=125,
                          gravity="included")
    still = synthetic_windows(grav, ["sitting"], clips_per_activity=3, seed=1)
    assert np.linalg.norm(still.x[:, :, :3].mean(axis=1), axis=1).min() > 8.0
    with pytest.raises(ConfigError, match="unknown activities"):
        synthetic_windows(SPEC, ["flying"])


def test_window_sets_validate_and_subset() -> None:
    x = np.random.default_rng(0).standard_normal((10, 250, 6)).astype(np.float32)
    ws = WindowSet(x, tuple("abcdefghij"))
    sub = ws.subset(4, seed=1)
    assert len(sub) == 4 and sub.labels is not None
    assert all(x[list("abcdefghij").index(lab)].tobytes() == row.tobytes()
               for lab, row in zip(sub.labels, sub.x, strict=True))
    assert ws.subset(20) is ws
    assert as_window_set(x).labels is None
    with pytest.raises(ConfigError, match="2 labels for 10 windows"):
        WindowSet(x, ("a", "b"))
    with pytest.raises(ConfigError, match="NaN"):
        WindowSet(np.full((1, 250, 6), np.nan, np.float32))
    with pytest.raises(ConfigError, match="model takes 100"):
        as_window_set(x, 100)


def test_corpus_windows_follow_the_timeline(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    assert data_main(["synth", "--minutes", "1", "--out", str(root), "--no-video", "--quiet",
                      "--seed", "3"]) == 0
    ws = corpus_windows(root, SPEC, split=None, max_windows=1000)
    assert ws.source == f"corpus:{root}" and ws.labels is not None and len(ws) > 0
    # rebuild by hand: every window through the SDK's preprocessing, labelled only when one
    # timeline stretch holds all of it
    expected: list[str] = []
    for sample in CorpusReader(root, None, modalities=("imu",)):
        for stream in sample.imu.values():
            w = preprocess(stream.data, stream.spec, SPEC, t=stream.t)
            for t0, t1 in zip(w.t_start, w.t_end, strict=True):
                names = [e.activity for e in sample.timeline if e.start_s <= t0 and
                         t1 <= e.end_s + 1e-9]
                expected += names[:1]
    assert list(ws.labels) == expected
    capped = corpus_windows(root, SPEC, split=None, max_windows=3, seed=0)
    assert len(capped) == min(3, len(ws))
    with pytest.raises(ConfigError, match="yields no labelled window"):
        corpus_windows(root, ModelInputSpec(sample_rate_hz=50.0, window_samples=10_000,
                                            hop_samples=10_000), split=None)


def test_public_api_is_frozen() -> None:
    assert sorted(aura_export.__all__) == sorted([
        "BATCH_TOLERANCE", "DEFAULT_FP32_TOLERANCE", "DEFAULT_LABELS", "DEFAULT_TEMPERATURE",
        "DEFAULT_UNKNOWN_MARGIN", "DEFAULT_UNKNOWN_THRESHOLD", "FP32_OPS_IN_FP16",
        "INT8_METHODS", "FEATURES_NAME", "LABEL_SETS", "TOY_LABELS", "TOY_PROMPTS", "TRT_MAX_OPSET",
        "TRT_MIN_OPSET",
        "TRT_OPS_SOURCE", "TRT_SUPPORTED_OPS", "TRT_UNSUPPORTED_OPS", "AgreementReport",
        "ExportError", "ExportResult", "Int8Choice", "Int8Method", "LabelPrompts",
        "OnnxExport", "ParityError", "ParityReport", "PrototypeAgreement", "RescoreResult",
        "ScoringChoice", "SetChoice",
        "SimplifyReport", "Tolerances", "TrtIssue", "TrtOpReport", "WindowReader",
        "WindowSet", "ZeroShotMetrics", "as_window_set", "batch_dependence", "build_prototypes",
        "add_feature_output", "catalogue_label_sets", "check_parity",
        "check_tensorrt_ops", "choose_int8", "choose_scoring", "compare_encoders",
        "convert_fp16", "corpus_windows", "cosine_rows", "default_vocabulary",
        "device_agreement", "export_bundle", "export_onnx", "label_templates",
        "quantize_int8", "read_label_file", "rescore_bundle", "run_encoder", "simplify_onnx",
        "synthetic_windows", "temperature_from", "torch_embed", "toy_embed",
        "toy_encoder_onnx", "toy_windows", "vocabulary_prompts", "with_feature_output",
        "with_label_sets",
        "write_example_bundle",
        "zero_shot_metrics"])
    assert all(hasattr(aura_export, name) for name in aura_export.__all__)
    assert issubclass(aura_export.ParityError, aura_export.ExportError)
    assert issubclass(aura_export.ExportError, RuntimeError)
