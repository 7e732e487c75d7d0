"""Named training presets (Python-defined, so they ship with the code; dump one as YAML with
``aura train --preset NAME --print-config`` to start a config file from it).

* ``smoke``: synthesises a 6-minute corpus and trains a few steps of all four modalities;
  under a minute on a 2-core CPU. For tests and "does it run".
* ``cpu-teacher``: the Transformer teacher (``imu-xs``) with text, video and mocap on a
  synthetic corpus, sized from measured throughput to finish within 60 minutes on a
  2-core CPU (synthesis, text embedding and statistics included).
* ``cpu-imu2clip``: the IMU2CLIP baseline encoder on the same corpus, steps and batch.
* ``cpu-imu-text``: the teacher trained on IMU-text alone (the four-modality ablation).
* ``cpu-student``: the shipped student (``imu-student``, under a fifth of the teacher's
  FLOPs) distilled from ``runs/cpu-teacher`` on the same corpus: cosine matching of the
  teacher's embeddings (weight 4) plus the IMU-text contrastive pair (``aura distill``).
* ``paper-gpu``: paper scale for GPU servers: ``imu-ss`` at 200 Hz, a 100-hour corpus,
  bf16, 256 windows per GPU, ``torchrun`` across GPUs and nodes.

The ``cpu-*`` presets share one corpus directory, so their comparison is on the same
data, steps and batch.

Sizing of ``cpu-teacher`` (measured on the 2-core development machine, one torch thread plus
one DataLoader worker, other jobs running): 126 samples/s for the four-modality teacher
(``cpu-imu2clip`` 145, ``cpu-imu-text`` 249; the data pipeline alone makes ~390 windows/s
on one core). 5000 steps x 64 windows = 320k samples, about 42 minutes, plus about 3
minutes to synthesise the 10-hour corpus and 1-2 minutes to embed its ~14k texts. The CPU
presets use one torch thread: two threads next to a data worker oversubscribe two cores,
and under load a step then ran 3-7x slower.

``paper-gpu`` is likely input-bound: at 200 Hz one CPU core makes only ~70-120 windows/s
(the SDK's resampler evaluates its kernel per output sample), so it asks for 12 DataLoader
workers per GPU; give it more where the server has the cores.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._config import TrainConfig, load_config

__all__ = ["PRESETS", "preset_config"]

_CPU_CORPUS = "data/synth-cpu"

_SMOKE: dict[str, Any] = {
    "name": "smoke",
    "seed": 0,
    "data": {"dir": "data/smoke", "shuffle_buffer": 64, "train_hop_s": 2.5,
             "synth": {"minutes": 6.0, "seed": 0, "shard_seconds": 30.0}},
    "input": {"norm_clips": 20},
    "model": {"imu": "imu-xs", "text": "text-minilm", "video": "video-cnn",
              "mocap": "mocap-cnn"},
    "optim": {"lr": 1e-3, "warmup_steps": 3},
    "batch_size": 16,
    "steps": 12,
    "threads": 1,
    "eval_every": 0,
    "eval_batches": 2,
    "checkpoint_every": 6,
    "log_every": 1,
    "out_dir": "runs/smoke",
}

_CPU_TEACHER: dict[str, Any] = {
    "name": "cpu-teacher",
    "seed": 0,
    "data": {"dir": _CPU_CORPUS, "num_workers": 1, "shuffle_buffer": 1024,
             "train_hop_s": 2.5,
             "synth": {"minutes": 600.0, "seed": 0, "shard_seconds": 180.0},
             "synth_workers": 2},
    "model": {"imu": "imu-xs", "text": "text-minilm", "video": "video-cnn",
              "mocap": "mocap-cnn"},
    "optim": {"lr": 1e-3, "warmup_steps": 250, "weight_decay": 0.05},
    "batch_size": 64,
    "steps": 5000,
    "threads": 1,
    "eval_every": 500,
    "eval_batches": 10,
    "checkpoint_every": 250,
    "log_every": 10,
    "out_dir": "runs/cpu-teacher",
}

_CPU_IMU2CLIP = copy.deepcopy(_CPU_TEACHER)
_CPU_IMU2CLIP.update(name="cpu-imu2clip", out_dir="runs/cpu-imu2clip")
_CPU_IMU2CLIP["model"] = {**_CPU_TEACHER["model"], "imu": "imu2clip-50hz"}

_CPU_IMU_TEXT = copy.deepcopy(_CPU_TEACHER)
_CPU_IMU_TEXT.update(name="cpu-imu-text", out_dir="runs/cpu-imu-text",
                     loss={"pairs": {"text": 1.0}})
_CPU_IMU_TEXT["model"] = {"imu": "imu-xs", "text": "text-minilm"}

_CPU_STUDENT = copy.deepcopy(_CPU_TEACHER)  # same corpus, steps, batch and cadence
_CPU_STUDENT.update(name="cpu-student", out_dir="runs/cpu-student",
                    model={"imu": "imu-student", "text": "text-minilm"},
                    loss={"pairs": {"text": 1.0}},
                    distill={"teacher": "runs/cpu-teacher", "weight": 4.0, "kind": "cosine"},
                    optim={"lr": 2e-3, "warmup_steps": 250, "weight_decay": 0.05})

_PAPER_GPU: dict[str, Any] = {
    "name": "paper-gpu",
    "seed": 0,
    "data": {"dir": "data/synth-100h", "num_workers": 12, "shuffle_buffer": 8192,
             "train_hop_s": 2.5,
             "synth": {"minutes": 6000.0, "seed": 0, "shard_seconds": 180.0},
             "synth_workers": 16},
    "input": {"norm_clips": 1000},
    "model": {"imu": "imu-ss", "text": "text-minilm", "video": "video-cnn",
              "mocap": "mocap-cnn"},
    "optim": {"lr": 5e-4, "warmup_steps": 2000, "weight_decay": 0.05},
    "batch_size": 256,
    "steps": 60000,
    "precision": "bf16",
    "device": "cuda",
    "eval_every": 2000,
    "eval_batches": 50,
    "checkpoint_every": 1000,
    "log_every": 50,
    "out_dir": "runs/paper-gpu",
}

#: Preset name -> the options of :class:`TrainConfig` (validated by :func:`preset_config`).
PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "smoke": _SMOKE,
    "cpu-teacher": _CPU_TEACHER,
    "cpu-imu2clip": _CPU_IMU2CLIP,
    "cpu-imu-text": _CPU_IMU_TEXT,
    "cpu-student": _CPU_STUDENT,
    "paper-gpu": _PAPER_GPU,
})


def preset_config(name: str, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """The validated config of a preset, with nested ``overrides`` merged in.

    Raises:
        ConfigError: unknown preset, or invalid overrides.
    """
    from aura_sdk import ConfigError

    if name not in PRESETS:
        raise ConfigError(f"unknown training preset {name!r}; presets: {sorted(PRESETS)}")
    return load_config(copy.deepcopy(dict(PRESETS[name])), overrides)
