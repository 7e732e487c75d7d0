"""Training configs: strict validation, presets, YAML round trip; shared tiny-corpus helpers."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")

from aura_sdk import ConfigError, ModelInputSpec
from aura_training.corpus import CorpusReader
from aura_training.corpus._synth import SynthConfig, synthesize_corpus
from aura_training.train import (
    DEFAULT_INPUT_SPEC,
    PRESETS,
    TextTable,
    TrainConfig,
    load_config,
    preset_config,
)
from aura_training.train._text import sample_texts, tower_identity

_CORPUS: dict[str, Path] = {}

#: Small encoders for fast tests (same families and embedding width as the presets).
TINY_MODEL: dict[str, Any] = {
    "imu": {"preset": "imu-xs", "dim": 32, "depth": 1, "heads": 2, "mlp_dim": 64},
    "text": "text-minilm",
    "video": {"preset": "video-cnn", "widths": [8, 16]},
    "mocap": {"preset": "mocap-cnn", "widths": [16, 16, 16]},
}


def tiny_corpus() -> Path:
    """A 4-minute synthetic corpus (30 s shards) and its text cache, built once per process."""
    if "root" not in _CORPUS:
        root = Path(tempfile.mkdtemp(prefix="aura-train-test-")) / "corpus"
        synthesize_corpus(root, SynthConfig(minutes=4.0, seed=3, shard_seconds=30.0,
                                            activity_weights={}))
        texts = [t for s in CorpusReader(root, ["train", "val"], modalities=("text",))
                 for t in sample_texts(s)]
        TextTable.build(texts, root.parent / "text_cache.npz")
        _CORPUS["root"] = root
    return _CORPUS["root"]


def tiny_config(out_dir: Path, **over: Any) -> TrainConfig:
    """A fast four-modality config on :func:`tiny_corpus` (options merged from ``over``)."""
    root = tiny_corpus()
    base: dict[str, Any] = {
        "name": "test", "seed": 1,
        "data": {"dir": str(root), "text_cache": str(root.parent / "text_cache.npz"),
                 "shuffle_buffer": 32},
        "input": {"norm_clips": 6},
        "model": TINY_MODEL,
        "optim": {"lr": 2e-3, "warmup_steps": 2},
        "batch_size": 8, "steps": 8, "threads": 1, "eval_batches": 2,
        "checkpoint_every": 4, "log_every": 1, "out_dir": str(out_dir),
    }
    return load_config(base, over)


def _smoke_dict() -> dict[str, Any]:
    return copy.deepcopy(dict(PRESETS["smoke"]))


@pytest.mark.parametrize("path", [("bogus",), ("data", "bogus"), ("optim", "lr_max"),
                                  ("augment", "rotation"), ("loss", "pairz")])
def test_unknown_keys_are_rejected_at_every_level(path: tuple[str, ...]) -> None:
    d = _smoke_dict()
    node = d
    for p in path[:-1]:
        node = node.setdefault(p, {})
    node[path[-1]] = 1
    with pytest.raises(ConfigError, match=path[-1]):
        load_config(d)


def test_invalid_combinations_are_rejected() -> None:
    d = _smoke_dict()
    with pytest.raises(ConfigError, match="exactly one of steps or epochs"):
        load_config(d, {"epochs": 2.0})
    with pytest.raises(ConfigError, match="does not match the IMU encoder"):
        load_config(d, {"input": {"sample_rate_hz": 100.0}})
    with pytest.raises(ConfigError, match="no encoder"):
        load_config({**d, "model": {"imu": "imu-xs", "text": "text-minilm"}})
    with pytest.raises(ConfigError, match="embed_dim"):
        load_config(d, {"model": {"video": {"preset": "video-cnn", "embed_dim": 128}}})
    with pytest.raises(ConfigError, match="unknown modalities"):
        load_config(d, {"model": {"audio": "imu-xs"}})
    with pytest.raises(ConfigError, match="both norm_mean and norm_std"):
        load_config(d, {"input": {"norm_mean": [0.0] * 6}})
    with pytest.raises(ConfigError, match="unknown training preset"):
        preset_config("huge")


def test_every_preset_validates_and_pins_its_input() -> None:
    rates = {}
    for name in PRESETS:
        cfg = preset_config(name)
        spec = cfg.input_spec()
        rates[name] = (spec.sample_rate_hz, spec.window_samples, cfg.modalities)
        assert spec.gravity == "either"
    assert rates["paper-gpu"][:2] == (200.0, 1000)
    for name in ("smoke", "cpu-teacher", "cpu-imu2clip", "cpu-imu-text"):
        assert rates[name][:2] == (50.0, 250)
    assert rates["cpu-imu-text"][2] == ("imu", "text")
    assert rates["cpu-teacher"][2] == ("imu", "text", "video", "mocap")
    teacher, base = preset_config("cpu-teacher"), preset_config("cpu-imu2clip")
    # the baseline differs from the teacher only in the IMU encoder and where it writes
    assert teacher.data == base.data and teacher.steps == base.steps
    assert teacher.batch_size == base.batch_size and teacher.optim == base.optim
    assert base.model["imu"] == "imu2clip-50hz"


def test_default_input_spec_is_50hz_5s_either() -> None:
    expected = ModelInputSpec(sample_rate_hz=50.0, window_samples=250, hop_samples=125,
                              gravity="either")
    assert expected == DEFAULT_INPUT_SPEC
    cfg = preset_config("smoke")
    assert cfg.input_spec() == DEFAULT_INPUT_SPEC
    spec = cfg.input_spec((1.0,) * 6, (2.0,) * 6)
    assert spec.norm_mean == (1.0,) * 6 and spec.norm_std == (2.0,) * 6


def test_yaml_file_round_trip_and_overrides(tmp_path: Path) -> None:
    import yaml

    cfg = preset_config("smoke", {"data": {"dir": str(tmp_path / "c")}, "steps": 3})
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    again = load_config(path)
    assert again == cfg and again.steps == 3 and again.data.dir == tmp_path / "c"
    over = load_config(path, {"optim": {"lr": 5e-4}})
    assert over.optim.lr == 5e-4 and over.optim.warmup_steps == cfg.optim.warmup_steps
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad)
    assert isinstance(again, TrainConfig)


def test_text_cache_identity_matches_the_tower() -> None:
    from aura_training.models import load_text_tower

    assert tower_identity(256) == load_text_tower(None, 256).identity
