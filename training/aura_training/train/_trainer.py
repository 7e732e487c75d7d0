"""The contrastive pretraining loop: one process on CPU, or ``torchrun`` DDP on CPUs and GPUs.

:class:`Trainer` sets up (process group, corpus, text table, input statistics, model, loss,
optimiser), resumes from the newest checkpoint in ``out_dir`` if there is one, and
:meth:`Trainer.fit` runs optimiser steps. Resume is exact: the model, AdamW moments, the
learning rate (a pure function of the step), every rank's torch RNG and every data reader's
position (epoch, batch) are restored, so a killed and resumed run draws the same batches and
produces the same loss curve as an uninterrupted one.

Under ``torchrun`` every rank reads ``data.dir`` and ``out_dir`` (rank 0 writes the text
cache and the checkpoints, the others read them), so across nodes both must be on a shared
filesystem (or the corpus copied to the same path on every node).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from aura_sdk import ConfigError, ModelInputSpec
from aura_sdk.bundle import Prototypes

from ..corpus import MANIFEST_NAME, CorpusReader, load_manifest
from ..losses import LABEL_PROTOTYPES, ContrastiveLoss, DistillationLoss, DistillationLossConfig
from ..models import MultiModalEncoder, encoder_config
from ..text import Split, label_prompts
from ._checkpoint import Checkpoint, build_model, find_checkpoint, read_checkpoint
from ._checkpoint import save_checkpoint as _save
from ._config import AugmentConfig, TrainConfig
from ._data import ClipWindower, WindowStream, activity_id
from ._dist import DistInfo, init_distributed
from ._evaluate import evaluate_batches
from ._metrics import MetricsLogger
from ._optim import build_optimizer, lr_at, optimizer_state, restore_optimizer
from ._stats import compute_norm_stats, stream_mix
from ._support import Progress, TrainResult, b64, run_identity, unb64, write_rank_summary
from ._text import TextTable, sample_texts

__all__ = ["TrainResult", "Trainer"]

logger = logging.getLogger(__name__)


def label_features(model: MultiModalEncoder, loss: ContrastiveLoss,
                   features: dict[str, Tensor]) -> dict[str, Tensor]:
    """``features`` plus this step's label prototypes, the loss's raw ones passed through the
    text encoder (its learned projection, if any, as the export applies it), when the loss
    has a label term. A text encoder without a projection only normalises, and the loss's
    prototypes are unit vectors already: then ``features`` is returned as it is."""
    if loss.label_prototypes.shape[0] == 0:  # no label term (and maybe no text encoder)
        return features
    text = model.encoders["text"]
    if isinstance(getattr(text, "proj", None), nn.Identity):
        return features
    return {**features, LABEL_PROTOTYPES: text(loss.label_prototypes)}


class _TrainModule(nn.Module):
    """Encoders plus the loss's temperature: what DDP wraps and the optimiser updates."""

    def __init__(self, model: MultiModalEncoder, loss: ContrastiveLoss) -> None:
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, inputs: dict[str, Any], ids: dict[str, Tensor],
                teacher: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        features = label_features(self.model, self.loss, self.model(inputs))
        if isinstance(self.loss, DistillationLoss):
            parts = self.loss.pair_losses(features, ids, teacher)
        else:
            parts = self.loss.pair_losses(features, ids)
        weights = self.loss.weights()
        total = torch.stack([weights[k] * v for k, v in parts.items()]).sum()
        return total, parts


class Trainer:
    """Train the encoders of :class:`TrainConfig` contrastively against the IMU.

    Args:
        config: the run.
        resume: continue from the newest complete checkpoint in ``config.out_dir`` if any.
        progress: show a progress bar (rank 0 only).

    Raises:
        ConfigError: no corpus (and no ``data.synth``), a split or modality the corpus lacks,
            or a checkpoint written for another config.
    """

    def __init__(self, config: TrainConfig, *, resume: bool = True,
                 progress: bool = False) -> None:
        c = self.config = config
        self.progress = progress
        self.dist: DistInfo = init_distributed(c.device)
        try:
            self._setup(resume)
        except BaseException:
            self.dist.close()
            raise

    # ------------------------------------------------------------------ setup
    def _setup(self, resume: bool) -> None:
        c = self.config
        d = self.dist
        self.out_dir = Path(c.out_dir)
        if d.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_corpus()
        ckpt = None
        if resume and find_checkpoint(self.out_dir) is not None:
            ckpt = read_checkpoint(self.out_dir)
            if run_identity(ckpt.config) != run_identity(c):
                raise ConfigError(f"{ckpt.path} was written by a different config; use another "
                                  "out_dir or start fresh (resume=False)")
        self.text = self._text_table()
        teacher_ckpt = read_checkpoint(c.distill.teacher) if c.distill is not None else None
        init_ckpt = read_checkpoint(c.init_from) if c.init_from is not None else None
        inherited = [k for k in (init_ckpt, teacher_ckpt) if k is not None]
        if ckpt is not None:
            self.input_spec: ModelInputSpec = ckpt.input_spec
        elif inherited:
            self.input_spec = self._inherited_spec(inherited)
        else:
            self.input_spec = self._input_spec()
        self.total_steps = c.steps if c.steps is not None else self._steps_from_epochs()
        if c.threads is not None and d.device.type == "cpu":
            # only now: the text tower above may use every core before the data workers start
            torch.set_num_threads(c.threads)
        torch.manual_seed(c.seed)  # the same initial weights on every rank
        self.model = build_model(c).to(d.device)
        self.teacher: nn.Module | None = None
        if c.distill is not None and teacher_ckpt is not None:
            self.teacher = self._load_teacher(teacher_ckpt)
            self.loss_fn: ContrastiveLoss = DistillationLoss(
                DistillationLossConfig(**c.loss.model_dump(), distill=c.distill.kind,
                                       distill_weight=c.distill.weight),
                rank=d.rank, world_size=d.world_size)
        else:
            self.loss_fn = ContrastiveLoss(c.loss, rank=d.rank, world_size=d.world_size)
        if c.loss.label_weight > 0:
            self._set_label_prototypes()
        if init_ckpt is not None and ckpt is None:
            self._init_weights(init_ckpt)
        self.module = _TrainModule(self.model, self.loss_fn).to(d.device)
        self.optimizer, self.param_names = build_optimizer(self.module, c.optim)
        self.amp_dtype = self._amp_dtype()
        self.scaler = (torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16
                       else None)
        self.step = 0
        self.batches = 0  # micro-batches consumed by this rank
        self.positions: dict[int, tuple[int, int]] = {}
        self.elapsed_s = 0.0
        torch.manual_seed(c.seed * 1009 + 7919 * (d.rank + 1))  # per-rank dropout streams
        if ckpt is not None:
            self._restore(ckpt)
        self.ddp: nn.Module = self.module
        if d.distributed:
            self.ddp = DistributedDataParallel(
                self.module, device_ids=[d.device] if d.device.type == "cuda" else None)
        self.text_emb = self.text.tensor(d.device)
        self.eval_cache: list[dict[str, Any]] | None = None
        self.last_eval: dict[str, float] = {}

    def _ensure_corpus(self) -> None:
        c, d = self.config, self.dist
        root = Path(c.data.dir)
        if not (root / MANIFEST_NAME).is_file():
            if c.data.synth is None:
                raise ConfigError(f"no corpus at {root}: write one with `aura data synth "
                                  f"--minutes 60 --out {root}`, or set data.synth")
            if d.is_main:
                from ..corpus._synth import synthesize_corpus

                logger.info("no corpus at %s: synthesising %.0f minutes (seed %d)", root,
                            c.data.synth.minutes, c.data.synth.seed)
                synthesize_corpus(root, c.data.synth, workers=c.data.synth_workers)
            d.barrier()
        m = load_manifest(root)
        for split in (c.data.train_split, c.data.val_split):
            if split is not None and split not in m.splits:
                raise ConfigError(f"the corpus at {root} has no split {split!r}; it has "
                                  f"{sorted(m.splits)}")
        lacking = [x for x in self.config.modalities if x not in m.modalities]
        if lacking:
            raise ConfigError(f"the corpus at {root} has no {lacking}; switch those loss "
                              "pairs off or regenerate the corpus with them")

    def _splits(self) -> list[str]:
        c = self.config
        return [s for s in (c.data.train_split, c.data.val_split) if s is not None]

    def _text_table(self) -> TextTable:
        c, d = self.config, self.dist
        if "text" not in c.modalities:
            return TextTable.build(())
        prompts: Split | None = "train" if c.data.label_prompt_prob > 0 else None
        texts: set[str] = set()
        for s in CorpusReader(c.data.dir, self._splits(), modalities=("text",)):
            texts.update(sample_texts(s, prompts))
        for act in self._label_activities():
            texts.update(label_prompts(act, "train"))
        max_length = int(getattr(encoder_config(c.model["text"]), "max_length", 256))
        cache = c.text_cache_path
        if d.is_main:
            table = TextTable.build(texts, cache, max_length=max_length)
        d.barrier()
        if not d.is_main:
            table = TextTable.from_cache(sorted(texts), cache, max_length=max_length)
        logger.info("%d distinct texts embedded (cache %s)", len(table.texts), cache)
        return table

    def _label_activities(self) -> list[str]:
        """The classes of the label term: every activity of the train split (none when off).

        Held-out activities are only in the test split, so they never get a prototype.
        """
        c = self.config
        if c.loss.label_weight <= 0:
            return []
        split = load_manifest(c.data.dir).splits[c.data.train_split]
        return sorted(a for a, sec in split.activities.items() if a and sec > 0)

    def _set_label_prototypes(self) -> None:
        """Give the loss one prototype per training activity: the normalised mean of its
        train-template label prompts' embeddings (constant: the text tower is frozen)."""
        acts = self._label_activities()
        if len(acts) < 2:
            raise ConfigError(f"loss.label_weight > 0 needs at least 2 labelled activities in "
                              f"the train split of {self.config.data.dir}, found {acts}; set "
                              "loss.label_weight=0")
        index = self.text.index()
        prompts = [(i, p) for i, a in enumerate(acts) for p in label_prompts(a, "train")]
        # built as the export builds a bundle's prototypes, so the term trains against the
        # vectors the bundle ships (for a tower without a projection)
        protos = torch.tensor(Prototypes.from_prompt_embeddings(
            acts, [p for _, p in prompts], [i for i, _ in prompts],
            self.text.embeddings[[index[p] for _, p in prompts]]).embeddings)
        ids = torch.tensor([activity_id(a) for a in acts], dtype=torch.long)
        self.loss_fn.set_label_prototypes(protos, ids)
        logger.info("label term over %d training activities (weight %g)", len(acts),
                    self.config.loss.label_weight)

    def _windower(self, spec: ModelInputSpec, train: bool) -> ClipWindower:
        c = self.config
        video_frames = 1
        if "video" in c.modalities:
            video_frames = int(getattr(encoder_config(c.model["video"]), "n_frames", 1))
        mocap_fps = 10.0
        if "mocap" in c.modalities:
            mocap_fps = float(getattr(encoder_config(c.model["mocap"]), "fps", 10.0))
        hop = round(c.data.train_hop_s * spec.sample_rate_hz) if train else spec.hop_samples
        return ClipWindower(
            spec, c.modalities, self.text.index(), self.text.ids, seed=c.seed,
            augment=c.augment if train else AugmentConfig(enabled=False),
            hop_samples=max(1, min(hop, spec.window_samples)),
            pad_min_fraction=c.data.pad_min_fraction,
            label_prompt_prob=c.data.label_prompt_prob if train else 0.0,
            locations=c.data.locations, video_frames=video_frames, mocap_fps=mocap_fps,
            positives=c.data.positives,
            placements=tuple(getattr(encoder_config(c.model["imu"]), "placements", ())),
            placement_dropout=c.data.placement_dropout if train else 0.0,
            upright_prob=c.data.upright_prob, upright_reference=c.data.upright_reference)

    def _input_spec(self) -> ModelInputSpec:
        c, d = self.config, self.dist
        spec = c.input_spec()
        if c.input.norm_mean is not None:
            return spec
        stats = None
        if d.is_main:
            mix = stream_mix(c.data.dir, c.data.train_split)
            logger.info("training streams: %d, gravity removed in %.0f %%, <= 25 Hz in "
                        "%.0f %%, rates %s", mix["streams"], 100 * mix["gravity_removed"],
                        100 * mix["low_rate"], mix["rates_hz"])
            stats = compute_norm_stats(c.data.dir, c.data.train_split,
                                       self._windower(spec, train=True),
                                       max_clips=c.input.norm_clips,
                                       pool_axes=c.augment.enabled and c.augment.rotate)
        mean, std = d.broadcast(stats)  # type: ignore[misc]
        return c.input_spec(mean, std)

    def _inherited_spec(self, sources: list[Checkpoint]) -> ModelInputSpec:
        """The input spec of the checkpoint(s) this run starts from or distils.

        A student or a fine-tuned model must see its windows exactly as the teacher or the
        pretrained model did: same rate, window, gravity convention and statistics.
        """
        own = self.config.input_spec()
        spec = sources[0].input_spec
        for src in sources:
            s = src.input_spec
            if (s.sample_rate_hz, s.window_samples) != (own.sample_rate_hz,
                                                        own.window_samples):
                raise ConfigError(
                    f"{src.path} takes {s.window_samples} samples at {s.sample_rate_hz:g} Hz but "
                    f"this run's IMU encoder takes {own.window_samples} at "
                    f"{own.sample_rate_hz:g} Hz; pick an encoder with the same rate and window")
            if s != spec:
                raise ConfigError(f"{sources[0].path} and {src.path} have different input specs "
                                  "(normalisation or gravity); distil from the checkpoint you "
                                  "start from")
        return spec

    def _load_teacher(self, teacher: Checkpoint) -> nn.Module:
        """The frozen teacher IMU encoder, in eval mode on this rank's device."""
        enc = teacher.build_model(self.dist.device).encoders["imu"]
        enc.requires_grad_(False)
        student_dim = self.model.encoders["imu"].embed_dim
        if enc.embed_dim != student_dim:
            raise ConfigError(f"the teacher {teacher.path} embeds in {enc.embed_dim} dimensions, "
                              f"the student in {student_dim}; give the student "
                              f"embed_dim={enc.embed_dim}")
        logger.info("distilling from %s (step %d)", teacher.path, teacher.step)
        return enc

    def _init_weights(self, source: Checkpoint) -> None:
        """Copy every same-shaped tensor of ``source`` into the fresh model (fine-tuning)."""
        tensors = source.model_tensors(self.dist.device)
        scale = tensors.pop("logit_scale", None)
        own = self.model.state_dict()
        taken = {k: v for k, v in tensors.items() if k in own and v.shape == own[k].shape}
        missing = sorted(k for k in own if k.startswith("encoders.imu.") and k not in taken)
        if missing:
            raise ConfigError(f"{source.path} does not hold this run's IMU encoder ("
                              f"{len(missing)} tensors missing or of another shape, e.g. "
                              f"{missing[0]}); init_from needs a checkpoint of the same IMU "
                              "encoder preset")
        self.model.load_state_dict(taken, strict=False)
        if scale is not None:
            with torch.no_grad():
                self.loss_fn.logit_scale.copy_(scale.reshape(()))
        logger.info("initialised %d of %d tensors from %s (step %d)", len(taken), len(own),
                    source.path, source.step)

    def teacher_embeddings(self, imu: Tensor, placement: Tensor | None = None) -> Tensor | None:
        """The frozen teacher's embeddings of a batch (``None`` when not distilling).

        A teacher that reads placements gets them (``None``: not said).
        """
        if self.teacher is None:
            return None
        with torch.no_grad(), self._autocast():
            if getattr(self.teacher, "uses_placement", False):
                out: Tensor = self.teacher(imu, placement)
            else:
                out = self.teacher(imu)
        return out

    def _steps_from_epochs(self) -> int:
        c = self.config
        hours = load_manifest(c.data.dir).splits[c.data.train_split].duration_s
        windows = hours / c.data.train_hop_s
        per_step = c.batch_size * self.dist.world_size * c.grad_accum
        return max(1, math.ceil((c.epochs or 1.0) * windows / per_step))

    def _amp_dtype(self) -> torch.dtype | None:
        p, dev = self.config.precision, self.dist.device
        if dev.type != "cuda":
            if p in ("bf16", "fp16"):
                logger.info("precision %s applies on CUDA only: training in fp32 on CPU", p)
            return None
        if p == "fp16":
            return torch.float16
        if p == "bf16" or (p == "auto" and torch.cuda.is_bf16_supported()):
            return torch.bfloat16
        return None

    # ------------------------------------------------------------ checkpoints
    def _restore(self, ckpt: Checkpoint) -> None:
        d = self.dist
        tensors = ckpt.model_tensors(d.device)
        with torch.no_grad():
            self.loss_fn.logit_scale.copy_(tensors.pop("logit_scale"))
        self.model.load_state_dict(tensors, strict=True)
        restore_optimizer(self.optimizer, self.param_names, ckpt.optimizer_tensors(d.device))
        st = ckpt.state
        self.step = int(st["step"])
        self.batches = int(st["batches"])
        self.elapsed_s = float(st.get("elapsed_s", 0.0))
        data = st["data"]
        readers = max(1, self.config.data.num_workers)
        if data["world_size"] == d.world_size and data["readers"] == readers:
            self.positions = {int(k): (int(v[0]), int(v[1]))
                              for k, v in data["positions"][d.rank].items()}
        else:  # a different layout cannot replay the same stream: start fresh epochs
            epoch = 1 + max((v[0] for p in data["positions"] for v in p.values()), default=0)
            self.positions = {w: (epoch, 0) for w in range(readers)}
            logger.warning("resuming on %d ranks x %d readers from a checkpoint of %d x %d: "
                           "the data order is not the one of an uninterrupted run",
                           d.world_size, readers, data["world_size"], data["readers"])
        rng = st["rng"][d.rank] if len(st["rng"]) == d.world_size else st["rng"][0]
        torch.set_rng_state(unb64(rng["torch"]))
        if d.device.type == "cuda" and rng.get("cuda"):
            torch.cuda.set_rng_state(unb64(rng["cuda"]), d.device)
        if self.scaler is not None and st.get("scaler"):
            self.scaler.load_state_dict(st["scaler"])
        logger.info("resumed from %s at step %d", ckpt.path, self.step)

    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint of the current step (collective: every rank must call it).

        Returns:
            The checkpoint directory on rank 0, ``None`` elsewhere.
        """
        d = self.dist
        rng = {"torch": b64(torch.get_rng_state())}
        if d.device.type == "cuda":
            rng["cuda"] = b64(torch.cuda.get_rng_state(d.device))
        positions = d.all_gather({str(k): list(v) for k, v in self.positions.items()})
        rngs = d.all_gather(rng)
        path = None
        if d.is_main:
            state = {
                "batches": self.batches, "elapsed_s": self.elapsed_s,
                "samples_seen": self.step * self.global_batch,
                "data": {"world_size": d.world_size,
                         "readers": max(1, self.config.data.num_workers),
                         "positions": positions},
                "rng": rngs, "scaler": self.scaler.state_dict() if self.scaler else None,
                "metrics": self.last_eval,
            }
            path = _save(self.out_dir, self.step, model=self.model,
                         logit_scale=self.loss_fn.logit_scale,
                         optimizer_state=optimizer_state(self.optimizer, self.param_names),
                         config=self.config, input_spec=self.input_spec, state=state,
                         keep=self.config.keep_checkpoints)
        d.barrier()
        return path

    # ----------------------------------------------------------------- data
    @property
    def global_batch(self) -> int:
        """Windows per optimiser step over all ranks."""
        return self.config.batch_size * self.dist.world_size * self.config.grad_accum

    def _modalities_to_read(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(("imu", "text", *self.config.modalities)))

    def _train_batches(self) -> Iterator[dict[str, Any]]:
        c, d = self.config, self.dist
        readers = max(1, c.data.num_workers)
        ds = WindowStream(
            c.data.dir, c.data.train_split, self._windower(self.input_spec, train=True),
            c.batch_size, modalities=self._modalities_to_read(), rank=d.rank,
            world_size=d.world_size, shuffle_seed=c.seed, shuffle_buffer=c.data.shuffle_buffer,
            infinite=True, start=self.positions, rotate=self.batches % readers)
        loader = DataLoader(ds, batch_size=None, num_workers=c.data.num_workers,
                            generator=torch.Generator().manual_seed(c.seed),
                            pin_memory=d.device.type == "cuda")
        return iter(loader)

    def _inputs(self, batch: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Tensor]]:
        dev = self.dist.device
        inputs: dict[str, Any] = {"imu": batch["imu"].to(dev, non_blocking=True),
                                  "imu_placement": batch["placement"].to(dev)}
        ids: dict[str, Tensor] = {}
        if "text" in self.config.modalities:
            inputs["text"] = self.text_emb[batch["text"].to(dev)]
            ids["text"] = batch["text_id"].to(dev)
        if self.config.loss.label_weight > 0:
            ids["label"] = batch["activity_id"].to(dev)
        for m in ("video", "mocap"):
            if m in self.config.modalities:
                inputs[m] = batch[m].to(dev, non_blocking=True)
        return inputs, ids

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.amp_dtype)

    # ---------------------------------------------------------------- train
    def _train_step(self, batches: Iterator[dict[str, Any]]) -> dict[str, float]:
        c, d = self.config, self.dist
        lr = lr_at(self.step, self.total_steps, c.optim)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=d.device)
        parts_sum: dict[str, Tensor] = {}
        for micro in range(c.grad_accum):
            batch = next(batches)
            reader, epoch, index = (int(v) for v in batch["meta"].tolist())
            self.positions[reader] = (epoch, index + 1)
            self.batches += 1
            inputs, ids = self._inputs(batch)
            teacher = self.teacher_embeddings(inputs["imu"], inputs["imu_placement"])
            last = micro == c.grad_accum - 1
            sync = (self.ddp.no_sync() if d.distributed and not last  # type: ignore[operator]
                    else contextlib.nullcontext())
            with sync:
                with self._autocast():
                    loss, parts = self.ddp(inputs, ids, teacher)
                scaled = loss / c.grad_accum
                if self.scaler is not None:
                    self.scaler.scale(scaled).backward()
                else:
                    scaled.backward()
            total += loss.detach() / c.grad_accum
            for k, v in parts.items():
                parts_sum[k] = parts_sum.get(k, torch.zeros((), device=d.device)) + (
                    v.detach() / c.grad_accum)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        params = [p for p in self.module.parameters() if p.grad is not None]
        clip = c.optim.grad_clip if c.optim.grad_clip is not None else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(params, clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.loss_fn.clamp_()
        self.step += 1
        out = {"loss": float(total.item()), "lr": lr, "grad_norm": float(grad_norm.item()),
               "temperature": self.loss_fn.temperature}
        out.update({f"loss_{k}": float(v.item()) for k, v in parts_sum.items()})
        return out

    def evaluate(self) -> dict[str, float]:
        """Loss and in-batch IMU->partner top-1 on ``eval_batches`` of the val split.

        Collective under DDP (every rank evaluates its own shards; results are summed).
        """
        c = self.config
        if c.data.val_split is None:
            return {}
        if self.eval_cache is None:
            ds = WindowStream(c.data.dir, c.data.val_split,
                              self._windower(self.input_spec, train=False), c.batch_size,
                              modalities=self._modalities_to_read(), rank=self.dist.rank,
                              world_size=self.dist.world_size)
            self.eval_cache = []
            # its own generator: a loader draws a seed, which must not move the global RNG
            loader = DataLoader(ds, batch_size=None, num_workers=0,
                                generator=torch.Generator().manual_seed(c.seed))
            for batch in loader:
                if len(self.eval_cache) >= c.eval_batches:
                    break
                self.eval_cache.append(batch)
        self.last_eval = evaluate_batches(self, self.eval_cache)
        return self.last_eval

    def fit(self, stop_at: int | None = None) -> TrainResult:
        """Train to ``total_steps`` (or stop after step ``stop_at`` without a checkpoint,
        as a kill would).

        Returns:
            What was done (see :class:`TrainResult`).
        """
        c, d = self.config, self.dist
        end = self.total_steps if stop_at is None else min(stop_at, self.total_steps)
        result = TrainResult(step=self.step)
        pairs = [f"loss_{m}" for m in self.loss_fn.weights()]
        val = ["val_loss", *[f"val_loss_{m}" for m in c.loss.pairs],
               *[f"val_top1_{m}" for m in c.loss.pairs]]
        if self.teacher is not None:
            val.append("val_teacher_cos")
        sink = (MetricsLogger(self.out_dir, ["epoch", "lr", "loss", *pairs, "temperature",
                                             "grad_norm", "samples_per_s", "elapsed_s", *val],
                              resume_step=self.step) if d.is_main else None)
        if d.is_main:
            logger.info("training %s: steps %d..%d of %d, global batch %d on %d rank(s), %s",
                        c.name, self.step, end, self.total_steps, self.global_batch,
                        d.world_size, d.device)
        batches = self._train_batches()
        bar = Progress(self.progress and d.is_main, self.step, self.total_steps)
        t_call = time.perf_counter()
        t_first: float | None = None
        first_step = self.step
        try:
            while self.step < end:
                t0 = time.perf_counter()
                m = self._train_step(batches)
                dt = time.perf_counter() - t0
                self.elapsed_s += dt
                if t_first is None:
                    t_first = time.perf_counter()
                result.losses.append((self.step, m["loss"]))
                m["samples_per_s"] = self.global_batch / dt
                m["elapsed_s"] = self.elapsed_s
                m["epoch"] = float(max((p[0] for p in self.positions.values()), default=0))
                if sink is not None and (self.step % c.log_every == 0 or self.step == end):
                    sink.log(self.step, m)
                bar.update(self.step, m)
                done = self.step == self.total_steps
                if (c.eval_every and self.step % c.eval_every == 0) or done:
                    ev = self.evaluate()
                    if sink is not None and ev:
                        sink.log(self.step, ev)
                if self.step % c.checkpoint_every == 0 or done:
                    result.checkpoint = self.save_checkpoint()
        finally:
            bar.close()
            if sink is not None:
                sink.close()
        now = time.perf_counter()
        result.step = self.step
        result.eval = dict(self.last_eval)
        result.seconds = now - t_call
        steps_after_first = self.step - first_step - 1
        if t_first is not None and steps_after_first > 0:
            result.samples_per_s = steps_after_first * self.global_batch / (now - t_first)
        write_rank_summary(self.out_dir, self.dist, self.module, result)
        return result

    def close(self) -> None:
        """Leave the process group if this trainer joined it."""
        self.dist.close()

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
