"""Contrastive pretraining of the AURA encoders (torch): configs, data pipeline, trainer.

* :class:`TrainConfig` (frozen pydantic, from YAML/JSON via :func:`load_config`, or a
  named preset via :func:`preset_config`) says everything a run does;
* the data pipeline turns corpus clips into batches through the SDK's one preprocessing
  implementation (:func:`stream_windows`; ``DEFAULT_INPUT_SPEC`` is 50 Hz x 5 s, gravity
  "either"), with per-epoch mounting/mirror/gain/noise augmentation;
* :class:`Trainer` runs on one CPU or under ``torchrun`` (DDP, gloo/nccl), with atomic
  safetensors checkpoints and exact resume;
* :func:`load_checkpoint` gives evaluation and export the trained encoders, the config and
  the :class:`aura_sdk.ModelInputSpec` their windows must follow.
"""

from ._augment import MIRROR, augment_imu, random_rotation
from ._checkpoint import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    find_checkpoint,
    load_checkpoint,
    read_checkpoint,
    slim_checkpoint,
)
from ._config import (
    AugmentConfig,
    DataConfig,
    DistillConfig,
    InputConfig,
    OptimConfig,
    TrainConfig,
    load_config,
)
from ._data import DEFAULT_INPUT_SPEC, ClipWindower, WindowItem, WindowStream, stream_windows
from ._metrics import read_metrics
from ._optim import lr_at
from ._presets import PRESETS, preset_config
from ._shipped import DEFAULT_TEACHER_DIR, default_teacher_path
from ._stats import compute_norm_stats, stream_mix
from ._text import TextTable
from ._trainer import Trainer, TrainResult

__all__ = [
    "CHECKPOINT_FORMAT",
    "DEFAULT_INPUT_SPEC",
    "DEFAULT_TEACHER_DIR",
    "MIRROR",
    "PRESETS",
    "AugmentConfig",
    "Checkpoint",
    "ClipWindower",
    "DataConfig",
    "DistillConfig",
    "InputConfig",
    "OptimConfig",
    "TextTable",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "WindowItem",
    "WindowStream",
    "augment_imu",
    "compute_norm_stats",
    "default_teacher_path",
    "find_checkpoint",
    "load_checkpoint",
    "load_config",
    "lr_at",
    "preset_config",
    "random_rotation",
    "read_checkpoint",
    "read_metrics",
    "slim_checkpoint",
    "stream_mix",
    "stream_windows",
]
