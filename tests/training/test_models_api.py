"""Freeze the public surface of the encoders and the losses (STYLE.md rule 1)."""

from __future__ import annotations

import importlib
import types

import pytest

EXPECTED = {
    "aura_training.models": {
        "ENCODER_PRESETS", "TEXT_DIM", "Encoder", "EncoderConfig", "EncoderConfigBase",
        "FeatureProjection", "Imu2ClipConfig", "Imu2ClipEncoder", "ImuTransformer",
        "ImuTransformerConfig", "MiniLMTower", "MocapCnn", "MocapCnnConfig",
        "MultiModalEncoder", "ProjectionConfig", "TextEncoder", "TextTowerConfig", "VideoCnn",
        "VideoCnnConfig", "body_frame_features", "build_encoder", "count_flops",
        "count_parameters", "encoder_config", "frame_indices", "load_text_tower",
        "minilm_model_dir", "text_key",
    },
    "aura_training.losses": {
        "LABEL_PROTOTYPES", "ContrastiveLoss", "ContrastiveLossConfig", "DistillationLoss",
        "DistillationLossConfig", "Modality", "gather_features", "text_ids",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exported_members_are_exactly_all(name: str) -> None:
    module = importlib.import_module(name)
    public = {n for n in dir(module) if not n.startswith("_")
              and not isinstance(getattr(module, n), types.ModuleType)}
    assert public == set(module.__all__) == EXPECTED[name]
