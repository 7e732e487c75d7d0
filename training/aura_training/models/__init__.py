"""Encoders that map each modality into AURA's shared embedding space (torch).

One file per model family: the Transformer IMU encoder (the AURA-MFM paper's "SS" and
smaller sizes), the IMU2CLIP baseline, a video CNN and a mocap CNN trained from scratch, and
the frozen all-MiniLM-L6-v2 text tower. Architectures are named, frozen configs in
:data:`ENCODER_PRESETS`; :func:`build_encoder` turns a name, config or mapping into a module.
Every encoder maps a batch to ``(B, embed_dim)`` unit vectors and has ``dummy_input``.
"""

from ._common import (
    Encoder,
    EncoderConfigBase,
    FeatureProjection,
    ProjectionConfig,
    count_flops,
    count_parameters,
)
from ._imu2clip import Imu2ClipConfig, Imu2ClipEncoder
from ._imu_transformer import ImuTransformer, ImuTransformerConfig
from ._mocap import MocapCnn, MocapCnnConfig, body_frame_features
from ._multimodal import MultiModalEncoder
from ._registry import ENCODER_PRESETS, EncoderConfig, build_encoder, encoder_config
from ._text import (
    TEXT_DIM,
    MiniLMTower,
    TextEncoder,
    TextTowerConfig,
    load_text_tower,
    minilm_model_dir,
    text_key,
)
from ._video import VideoCnn, VideoCnnConfig, frame_indices

__all__ = [
    "ENCODER_PRESETS",
    "TEXT_DIM",
    "Encoder",
    "EncoderConfig",
    "EncoderConfigBase",
    "FeatureProjection",
    "Imu2ClipConfig",
    "Imu2ClipEncoder",
    "ImuTransformer",
    "ImuTransformerConfig",
    "MiniLMTower",
    "MocapCnn",
    "MocapCnnConfig",
    "MultiModalEncoder",
    "ProjectionConfig",
    "TextEncoder",
    "TextTowerConfig",
    "VideoCnn",
    "VideoCnnConfig",
    "body_frame_features",
    "build_encoder",
    "count_flops",
    "count_parameters",
    "encoder_config",
    "frame_indices",
    "load_text_tower",
    "minilm_model_dir",
    "text_key",
]
