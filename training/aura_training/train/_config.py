"""Training configuration: frozen pydantic models, loaded from YAML or JSON.

One :class:`TrainConfig` says everything a run needs: the corpus, the model input, the
encoder of each modality, the loss pairs, the optimiser and schedule, batch and steps,
precision, evaluation and checkpoint cadence. Unknown keys are rejected at every level, so a
typo in a YAML file fails loudly instead of silently training something else.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aura_sdk import ConfigError, ModelInputSpec

from ..corpus._synth import SynthConfig
from ..losses import ContrastiveLossConfig, Modality
from ..models import encoder_config

__all__ = [
    "AugmentConfig",
    "DataConfig",
    "DistillConfig",
    "InputConfig",
    "OptimConfig",
    "TrainConfig",
    "load_config",
]

Vec6 = tuple[float, float, float, float, float, float]
EncoderSpec = str | dict[str, Any]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputConfig(_Frozen):
    """The model input (becomes the bundle's :class:`aura_sdk.ModelInputSpec`).

    Attributes:
        sample_rate_hz: model rate; ``None`` takes the IMU encoder's (50 Hz for the CPU
            presets, 200 Hz for ``imu-ss``).
        window_s: window length; ``None`` takes the IMU encoder's (5 s).
        hop_s: default hop of live windows; ``None`` is half a window.
        gravity: ``"either"`` (default): training covers both conventions, so devices are fed
            as they send.
        pad_mode: how the runtime completes a short segment (as in training).
        norm_mean, norm_std: per-channel statistics; ``None`` computes them from the
            training split (as the model sees it, after augmentation).
        norm_clips: how many training clips the statistics are computed over.
    """

    sample_rate_hz: float | None = Field(default=None, gt=0, le=10_000)
    window_s: float | None = Field(default=None, gt=0, le=120)
    hop_s: float | None = Field(default=None, gt=0)
    gravity: Literal["included", "removed", "either"] = "either"
    pad_mode: Literal["edge", "wrap", "zero"] = "edge"
    norm_mean: Vec6 | None = None
    norm_std: Vec6 | None = None
    norm_clips: int = Field(default=200, ge=1)

    @model_validator(mode="after")
    def _both_or_neither(self) -> InputConfig:
        if (self.norm_mean is None) != (self.norm_std is None):
            raise ValueError("give both norm_mean and norm_std, or neither (computed)")
        return self


class AugmentConfig(_Frozen):
    """Per-window IMU augmentation, applied to the raw SI stream before preprocessing.

    DESIGN's sim-to-real lessons: randomise the mounting in every batch (a full 3D rotation
    applied to accelerometer and gyroscope alike, and the left/right wrist mirror); both
    gravity conventions and low-rate devices come from the corpus itself.

    Attributes:
        enabled: switch all of it off (evaluation, the train/serve skew test).
        rotate: a random 3D rotation of the sensor frame.
        rotate_max_deg: the largest rotation angle (180: uniform over all rotations; less
            keeps the sensor's mounting roughly as the corpus placed it, so gravity still
            says how the body segment is oriented: standing vs sitting at the waist).
        mirror_prob: probability of the left/right mirror (reflect y; gyro is axial).
        gain_std: per-axis gain error, ``N(1, gain_std)``.
        acc_noise_std: white noise on the accelerometer, m/s^2.
        gyro_noise_std: white noise on the gyroscope, rad/s.
        time_shift: start each clip's windows at a random phase of the hop every epoch.
    """

    enabled: bool = True
    rotate: bool = True
    rotate_max_deg: float = Field(default=180.0, gt=0.0, le=180.0)
    mirror_prob: float = Field(default=0.5, ge=0.0, le=1.0)
    gain_std: float = Field(default=0.03, ge=0.0, le=0.5)
    acc_noise_std: float = Field(default=0.05, ge=0.0)
    gyro_noise_std: float = Field(default=0.01, ge=0.0)
    time_shift: bool = True


class DataConfig(_Frozen):
    """Where the windows come from and how they are drawn.

    Attributes:
        dir: the corpus directory (``aura data synth`` output).
        train_split, val_split: split names (``val_split=None``: no evaluation).
        locations: IMU streams to draw from (default: every stream of a clip); one is
            picked per clip per epoch, so a batch never holds the same window twice.
        train_hop_s: hop between training windows of a clip (overlap is cheap augmentation).
        pad_min_fraction: pad a segment shorter than a window into one if it holds at least
            this fraction of it, as ``AuraModel.windows`` does at run time.
        label_prompt_prob: probability of pairing a window with a training label prompt
            ("a person walking") instead of one of its descriptions.
        positives: what makes two windows of a batch positives for each other's texts in the
            IMU-text loss: ``"text"`` (the same text only) or ``"activity"`` (the same
            activity, whatever its description: "a person strolls in the park" and
            "walking" stop pushing two walking windows apart).
        placement_dropout: for an IMU encoder with ``placements``: the probability that a
            clip's placement is withheld in an epoch (trains the "not said" input).
        upright_prob: for an IMU encoder whose ``placements`` list placements plus
            ``"+upright"``: the probability that a clip's stream is turned to the wearer's
            upright and read as such (see :attr:`aura_sdk.SensorSpec.upright`).
        upright_reference: where "up" is, per stream location (``"left_waist"`` ...), in
            the placement's canonical device frame when the turn is made (default: the
            placement's rest axis, ``UPRIGHT_AXES``). A device finds up from its wearer's
            walking, whose mean leans a few degrees off the rest axis; giving the corpus's
            walking directions here trains on the reference a device uses.
        shuffle_buffer: windows mixed across clips before batching.
        num_workers: DataLoader worker processes per rank (0: in the training process).
        text_cache: ``.npz`` of MiniLM embeddings (default ``<out_dir>/text_embeddings.npz``).
        synth: if set and ``dir`` holds no corpus, rank 0 synthesises one first.
        synth_workers: processes for that synthesis.
    """

    dir: Path
    train_split: str = "train"
    val_split: str | None = "val"
    locations: tuple[str, ...] | None = None
    train_hop_s: float = Field(default=2.5, gt=0)
    pad_min_fraction: float = Field(default=0.2, ge=0.0, le=1.0)
    label_prompt_prob: float = Field(default=0.0, ge=0.0, le=1.0)
    positives: Literal["text", "activity"] = "text"
    placement_dropout: float = Field(default=0.25, ge=0.0, le=1.0)
    upright_prob: float = Field(default=0.0, ge=0.0, le=1.0)
    upright_reference: dict[str, tuple[float, float, float]] = Field(default_factory=dict)
    shuffle_buffer: int = Field(default=512, ge=1)
    num_workers: int = Field(default=0, ge=0, le=64)
    text_cache: Path | None = None
    synth: SynthConfig | None = None
    synth_workers: int = Field(default=1, ge=1)


class OptimConfig(_Frozen):
    """AdamW with linear warm-up then a cosine decay (a pure function of the step).

    Attributes:
        lr: peak learning rate.
        min_lr_ratio: the cosine ends at ``lr * min_lr_ratio``.
        warmup_steps: linear warm-up from 0.
        weight_decay: on weight matrices only (not biases, norms, tokens, positions, or the
            temperature).
        betas, eps: AdamW's.
        grad_clip: clip the global gradient norm (``None``: off).
    """

    lr: float = Field(default=1e-3, gt=0)
    min_lr_ratio: float = Field(default=0.05, ge=0.0, le=1.0)
    warmup_steps: int = Field(default=100, ge=0)
    weight_decay: float = Field(default=0.05, ge=0.0)
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = Field(default=1e-6, gt=0)
    grad_clip: float | None = Field(default=1.0, gt=0)


class DistillConfig(_Frozen):
    """Distillation: the IMU encoder also learns to reproduce a frozen teacher's embeddings.

    The teacher is the IMU encoder of a training checkpoint; the student sees exactly the
    teacher's input (rate, window, gravity convention, normalisation statistics), which it
    takes from the teacher's checkpoint.

    Attributes:
        teacher: the teacher's run directory or checkpoint (``aura train`` output).
        weight: weight of the teacher-matching term next to the contrastive pairs.
        kind: ``"cosine"`` (``1 - cos``) or ``"mse"`` between the embeddings.
    """

    teacher: Path
    weight: float = Field(default=1.0, gt=0)
    kind: Literal["cosine", "mse"] = "cosine"


def _default_model() -> dict[str, EncoderSpec]:
    return {"imu": "imu-ss-50hz", "text": "text-minilm", "video": "video-cnn",
            "mocap": "mocap-cnn"}


class TrainConfig(_Frozen):
    """A whole training run.

    Attributes:
        name: run name (logged, stored in checkpoints).
        seed: the one seed of model init, data order, augmentation and dropout.
        data: see :class:`DataConfig`.
        input: see :class:`InputConfig`.
        model: modality -> encoder (a preset name of
            :data:`aura_training.models.ENCODER_PRESETS` or a mapping for
            :func:`~aura_training.models.encoder_config`). Modalities no loss pair uses
            are not built.
        loss: pairs, weights and temperature (IMU is the anchor).
        augment: see :class:`AugmentConfig`.
        optim: see :class:`OptimConfig`.
        batch_size: windows per rank per micro-batch (the contrastive batch of one rank;
            ranks are gathered, so the loss sees ``batch_size * world_size``).
        grad_accum: micro-batches per optimiser step (each is its own contrastive batch).
        steps: optimiser steps; or ``epochs`` (converted with the manifest's train hours,
            approximately, since transitions are skipped).
        precision: ``"auto"`` is bf16 autocast on CUDA and fp32 on CPU; ``bf16``/``fp16``
            apply on CUDA only (fp16 with a gradient scaler).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        threads: torch CPU threads per process (``None``: torch's default).
        eval_every, eval_batches: evaluate on ``val_split`` every N steps (0: only at the end).
        checkpoint_every: write a checkpoint every N steps (and always at the end).
        keep_checkpoints: how many recent checkpoints to keep.
        log_every: metrics row every N steps.
        out_dir: checkpoints, metrics and the text cache go here.
        distill: train the IMU encoder against a frozen teacher as well (see
            :class:`DistillConfig`).
        init_from: start from the weights of this checkpoint (run directory or
            ``step-*``) instead of a random initialisation: every tensor of the encoders
            trained here that the checkpoint holds with the same shape, and the
            temperature; the checkpoint's input spec (normalisation included) is kept.
            For fine-tuning a pretrained model on new data.
    """

    name: str = "aura"
    seed: int = Field(default=0, ge=0)
    data: DataConfig
    input: InputConfig = InputConfig()
    model: dict[str, EncoderSpec] = Field(default_factory=_default_model)
    loss: ContrastiveLossConfig = ContrastiveLossConfig()
    augment: AugmentConfig = AugmentConfig()
    optim: OptimConfig = OptimConfig()
    batch_size: int = Field(default=64, ge=2)
    grad_accum: int = Field(default=1, ge=1)
    steps: int | None = Field(default=None, ge=1)
    epochs: float | None = Field(default=None, gt=0)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(default=None, ge=1)
    eval_every: int = Field(default=0, ge=0)
    eval_batches: int = Field(default=20, ge=1)
    checkpoint_every: int = Field(default=500, ge=1)
    keep_checkpoints: int = Field(default=2, ge=1)
    log_every: int = Field(default=10, ge=1)
    out_dir: Path = Path("runs/aura")
    distill: DistillConfig | None = None
    init_from: Path | None = None

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps or epochs")
        unknown = sorted(set(self.model) - set(get_args(Modality)))
        if unknown:
            raise ValueError(f"model has unknown modalities {unknown}; use imu, text, video, "
                             "mocap")
        if "imu" not in self.model:
            raise ValueError("model needs an 'imu' encoder (the anchor)")
        missing = [m for m in self.loss.pairs if m not in self.model]
        if missing:
            raise ValueError(f"loss pairs {missing} have no encoder in model")
        if self.loss.anchor != "imu":
            raise ValueError("the trainer anchors on the IMU (loss.anchor must be 'imu')")
        if self.loss.label_weight > 0 and "text" not in self.loss.pairs:
            raise ValueError("loss.label_weight > 0 scores windows against text prototypes: "
                             "enable the text pair (loss.pairs.text) or set it to 0")
        dims = {}
        for name in self.modalities:
            try:
                cfg = encoder_config(self.model[name])
            except ConfigError as exc:
                raise ValueError(f"model.{name}: {exc}") from exc
            dims[name] = cfg.embed_dim
        if len(set(dims.values())) != 1:
            raise ValueError(f"encoders must share one embed_dim, got {dims}")
        self.input_spec()  # shapes must agree with the IMU encoder
        self._check_windows()
        return self

    def _check_windows(self) -> None:
        spec = self.input_spec()
        for name in ("mocap",):
            if name in self.modalities:
                cfg: Any = encoder_config(self.model[name])
                if not math.isclose(cfg.window_s, spec.window_s):
                    raise ValueError(f"model.{name} window_s={cfg.window_s} differs from the "
                                     f"IMU window {spec.window_s:g} s")

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities trained: the IMU anchor and every enabled loss pair, in that order."""
        return ("imu", *[m for m in ("text", "video", "mocap") if m in self.loss.pairs])

    def imu_encoder_config(self) -> Any:
        """The resolved IMU encoder config."""
        return encoder_config(self.model["imu"])

    def input_spec(self, norm_mean: Vec6 | None = None,
                   norm_std: Vec6 | None = None) -> ModelInputSpec:
        """The model input spec (statistics: the given ones, else the config's, else 0/1).

        Raises:
            ValueError: the rate and window do not match the IMU encoder, or do not make a
                whole number of samples.
        """
        imu: Any = self.imu_encoder_config()
        rate = self.input.sample_rate_hz or float(imu.sample_rate_hz)
        window_s = self.input.window_s or float(imu.window_s)
        n = rate * window_s
        if abs(n - round(n)) > 1e-6:
            raise ValueError(f"sample_rate_hz * window_s = {n:g} is not whole")
        if round(n) != imu.window_samples:
            raise ValueError(f"the input window ({round(n)} samples at {rate:g} Hz) does not "
                             f"match the IMU encoder's {imu.window_samples} samples at "
                             f"{imu.sample_rate_hz:g} Hz")
        hop = round((self.input.hop_s or window_s / 2.0) * rate)
        mean = norm_mean or self.input.norm_mean or (0.0,) * 6
        std = norm_std or self.input.norm_std or (1.0,) * 6
        return ModelInputSpec(sample_rate_hz=rate, window_samples=round(n),
                              hop_samples=max(1, min(hop, round(n))),
                              gravity=self.input.gravity, norm_mean=mean, norm_std=std,
                              pad_mode=self.input.pad_mode)

    @property
    def text_cache_path(self) -> Path:
        """Where the MiniLM embeddings of the corpus texts are cached."""
        return self.data.text_cache or self.out_dir / "text_embeddings.npz"


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the training config {path}: {exc}") from exc
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of training options")
    return data


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(
            out.get(k), Mapping) else v
    return out


def load_config(source: str | os.PathLike[str] | Mapping[str, Any],
                overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Validate a training config from a YAML/JSON file or a mapping.

    Args:
        source: a ``.yaml``/``.yml``/``.json`` path, or the options as a mapping.
        overrides: nested options merged over ``source`` (e.g. ``{"data": {"dir": ...}}``).

    Returns:
        The frozen config.

    Raises:
        ConfigError: unreadable file, unknown keys or invalid values (all listed).
    """
    data = dict(source) if isinstance(source, Mapping) else _read_mapping(Path(source))
    if overrides:
        data = _merge(data, overrides)
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid training config: {exc}") from exc
