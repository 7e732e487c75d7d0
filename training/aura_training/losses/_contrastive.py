"""Symmetric InfoNCE between the IMU anchor and each other modality (CLIP-style).

For each enabled pair (IMU-text, IMU-video, IMU-mocap) the loss is the mean of two
cross-entropies over the cosine-similarity matrix scaled by a learned ``logit_scale``
(= 1 / temperature): IMU -> other (each IMU window must pick its own text / frame / pose
among the batch) and other -> IMU. The total is the weighted sum over pairs, as in the
AURA-MFM paper (which sums; we average the two directions of a pair like open_clip, so a pair
contributes ``log B`` at chance whatever the batch layout).

**Duplicates.** Two clips of a batch can share a caption ("walking"). Their text embeddings
are then identical, so the usual one-hot target asks the model for the impossible (pick
clip *i* and not clip *j* from the same text) and pushes the two IMU windows apart. Pass
``ids`` for a pair (equal ids = the same content; :func:`text_ids` hashes texts) and the
target becomes soft: each row's probability is spread evenly over all columns that share
its id (a multi-positive InfoNCE), in both directions. The soft loss is reported as the KL
divergence from the target (cross-entropy minus the target's entropy; same gradients), so it
is 0 at a perfect fit, and with all-distinct ids it equals the one-hot loss exactly.

**Labels.** In-batch InfoNCE only contrasts a window with the texts that happen to share its
batch: with some 50 activities and 64 windows, two close rivals ("typing", "using a
smartphone") meet in few batches, yet zero-shot scoring ranks every label of a set at once.
With ``label_weight > 0`` each IMU window is also classified among every training
activity's label prototype (:meth:`ContrastiveLoss.set_label_prototypes`), a cross-entropy
at the pair's temperature reported as the term ``"label"``. The prototypes come from the
frozen text tower, so the term stays a text-alignment loss: no classifier weights are
learned, and activities outside the prototypes (held out for zero-shot) are never seen.

**Distributed.** With ``world_size > 1`` the features of all ranks are gathered
(:func:`~aura_training.losses.gather_features`) so every rank contrasts against the global
batch. ``local_loss=False``: each rank computes the full ``N x N`` loss (the same value on
every rank). ``local_loss=True``: each rank computes only its own rows against all columns;
the mean over ranks equals the global loss. Use ``gather_with_grad=True`` (default) for
exact gradients in both modes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import Tensor, nn

from aura_sdk import ConfigError

from ._gather import gather_features

__all__ = ["LABEL_PROTOTYPES", "ContrastiveLoss", "ContrastiveLossConfig", "Modality",
           "text_ids"]

Modality = Literal["imu", "text", "video", "mocap"]
#: The ``features`` key of this step's label prototypes (the raw ones passed through the text
#: encoder, so a learned text projection is trained by the label term as by the text pair).
LABEL_PROTOTYPES = "label_prototypes"


def _default_pairs() -> dict[Modality, float]:
    return {"text": 1.0, "video": 1.0, "mocap": 1.0}


class ContrastiveLossConfig(BaseModel):
    """Which pairs, their weights, the temperature and the distributed mode.

    Attributes:
        anchor: the modality every pair contrasts against (IMU in AURA).
        pairs: enabled partner modalities and their weights, e.g. ``{"text": 1.0}`` for
            IMU-text alone; a modality left out is switched off.
        temperature: initial temperature (0.1 in the paper): ``logit_scale = log(1/T)``.
        learn_temperature: make ``logit_scale`` a trainable parameter.
        min_temperature, max_temperature: the clamp on the temperature (CLIP: 0.01 .. 1).
        local_loss: compute only this rank's rows (see the module docstring).
        gather_with_grad: gather through autograd (exact gradients across ranks).
        label_weight: weight of the closed-set term over all training activities' label
            prototypes (see "Labels" in the module docstring); 0 switches it off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    anchor: Modality = "imu"
    pairs: dict[Modality, float] = Field(default_factory=_default_pairs)
    temperature: float = Field(default=0.1, gt=0)
    learn_temperature: bool = True
    min_temperature: float = Field(default=0.01, gt=0)
    max_temperature: float = Field(default=1.0, gt=0)
    local_loss: bool = False
    gather_with_grad: bool = True
    label_weight: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check(self) -> ContrastiveLossConfig:
        if not self.pairs:
            raise ValueError("enable at least one pair, e.g. pairs: {text: 1.0}")
        if self.anchor in self.pairs:
            raise ValueError(f"the anchor {self.anchor!r} cannot also be a pair")
        bad = {k: w for k, w in self.pairs.items() if not (math.isfinite(w) and w > 0)}
        if bad:
            raise ValueError(f"pair weights must be finite and > 0 (leave a pair out to "
                             f"switch it off): {bad}")
        if not self.min_temperature <= self.temperature <= self.max_temperature:
            raise ValueError(f"temperature {self.temperature} is outside "
                             f"[{self.min_temperature}, {self.max_temperature}]")
        if self.local_loss and not self.gather_with_grad:
            raise ValueError("local_loss=true needs gather_with_grad=true, otherwise the "
                             "gradients through the other ranks' columns are lost")
        return self


def text_ids(texts: Sequence[str]) -> Tensor:
    """``(B,)`` int64 ids that are equal exactly for equal texts (63 bits of their sha1).

    Hash-based, so ids agree across ranks and processes without any vocabulary.
    """
    return torch.tensor([int.from_bytes(hashlib.sha1(t.encode("utf-8")).digest()[:8], "big")
                         >> 1 for t in texts], dtype=torch.long)


class ContrastiveLoss(nn.Module):
    """Multi-pair symmetric InfoNCE with a learnable temperature.

    Args:
        config: pairs, weights, temperature, distributed mode (default: the paper's three
            pairs with weight 1, T = 0.1).
        rank, world_size: this process's place in the process group (1 = no gather).

    Attributes:
        logit_scale: ``log(1 / temperature)``, an ``nn.Parameter`` (frozen when
            ``learn_temperature`` is false). Give it to the optimiser with the encoders,
            without weight decay, and call :meth:`clamp_` after each optimiser step.
    """

    def __init__(self, config: ContrastiveLossConfig | None = None, *, rank: int = 0,
                 world_size: int = 1) -> None:
        super().__init__()
        self.config = config if config is not None else ContrastiveLossConfig()
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is not in [0, world_size={world_size})")
        self.rank = rank
        self.world_size = world_size
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / self.config.temperature)),
                                        requires_grad=self.config.learn_temperature)
        # not persistent: the prototypes are a pure function of the corpus and the text tower
        self.register_buffer("label_prototypes", torch.zeros(0, 0), persistent=False)
        self.register_buffer("label_ids", torch.zeros(0, dtype=torch.long), persistent=False)

    def set_label_prototypes(self, prototypes: Tensor, ids: Tensor) -> None:
        """The classes of the label term: one text embedding per training activity.

        Args:
            prototypes: ``(K, D)`` embeddings (normalised here), e.g. the mean of an
                activity's label-prompt embeddings.
            ids: ``(K,)`` int64 content ids, the ids a batch's ``ids["label"]`` holds for
                windows of that activity.

        Raises:
            ConfigError: shapes disagree, fewer than 2 classes, or repeated ids.
        """
        ids = ids.reshape(-1).to(torch.long)
        if prototypes.ndim != 2 or prototypes.shape[0] != ids.shape[0]:
            raise ConfigError(f"label prototypes must be (K, D) with one id each, got "
                              f"{tuple(prototypes.shape)} and {ids.shape[0]} ids")
        if ids.shape[0] < 2:
            raise ConfigError("the label term needs at least 2 activities to tell apart; "
                              "set loss.label_weight=0 for a corpus of one activity")
        if torch.unique(ids).shape[0] != ids.shape[0]:
            raise ConfigError("label prototype ids must be distinct (one per activity)")
        dev = self.logit_scale.device
        self.label_prototypes = F.normalize(prototypes.detach().float(), dim=-1).to(dev)
        self.label_ids = ids.to(dev)

    def label_loss(self, anchor: Tensor, ids: Tensor, prototypes: Tensor | None = None
                   ) -> Tensor:
        """Cross-entropy of each window among all label prototypes (the term ``"label"``).

        Args:
            anchor: ``(B, D)`` IMU embeddings.
            ids: ``(B,)`` the activity id of each window; a window whose id is no
                prototype's (unlabelled, or an activity without a prototype) is left out.
            prototypes: ``(K, D)`` the prototypes as the text encoder outputs them this step
                (through a learned projection, if it has one), rows in the order of
                :meth:`set_label_prototypes`; default: the ones set there.

        Returns:
            The mean over the windows that count; 0 (still attached to ``anchor``) when
            none does.

        Raises:
            ConfigError: :meth:`set_label_prototypes` was not called, or shapes disagree.
        """
        if self.label_prototypes.shape[0] == 0:
            raise ConfigError("loss.label_weight > 0 needs label prototypes; the trainer sets "
                              "them from the corpus (set_label_prototypes)")
        protos = self.label_prototypes if prototypes is None else F.normalize(
            prototypes.float(), dim=-1)
        if protos.shape[0] != self.label_ids.shape[0]:
            raise ConfigError(f"{protos.shape[0]} label prototypes for {self.label_ids.shape[0]} "
                              "label ids")
        if anchor.ndim != 2 or anchor.shape[1] != protos.shape[1]:
            raise ConfigError(f"IMU embeddings {tuple(anchor.shape)} do not match label "
                              f"prototypes {tuple(protos.shape)}")
        ids = ids.to(device=anchor.device, dtype=torch.long).reshape(-1)
        if ids.shape[0] != anchor.shape[0]:
            raise ConfigError(f"{ids.shape[0]} label ids for a batch of {anchor.shape[0]}")
        match = ids[:, None] == self.label_ids[None, :]
        keep = match.any(dim=1)
        logits = self.scale() * F.normalize(anchor.float(), dim=-1) @ protos.T
        if not bool(keep.any()):
            return logits.sum() * 0.0
        return F.cross_entropy(logits[keep], match[keep].float().argmax(dim=1))

    @property
    def _scale_bounds(self) -> tuple[float, float]:
        c = self.config
        return math.log(1.0 / c.max_temperature), math.log(1.0 / c.min_temperature)

    def scale(self) -> Tensor:
        """The clamped multiplier ``1 / temperature`` (a differentiable scalar)."""
        lo, hi = self._scale_bounds
        return self.logit_scale.clamp(lo, hi).exp()

    @property
    def temperature(self) -> float:
        """The current (clamped) temperature."""
        return float(1.0 / self.scale().item())

    @torch.no_grad()
    def clamp_(self) -> None:
        """Clamp ``logit_scale`` in place to the configured range (after an optimiser step)."""
        lo, hi = self._scale_bounds
        self.logit_scale.clamp_(lo, hi)

    def _gather(self, x: Tensor) -> Tensor:
        c = self.config
        return gather_features(x, self.rank, self.world_size, local_loss=c.local_loss,
                               gather_with_grad=c.gather_with_grad)

    def get_logits(self, anchor: Tensor, other: Tensor) -> tuple[Tensor, Tensor]:
        """Scaled cosine similarities in both directions.

        Args:
            anchor: ``(B, D)`` this rank's anchor (IMU) embeddings.
            other: ``(B, D)`` this rank's partner embeddings, row ``i`` paired with anchor
                row ``i``.

        Returns:
            ``(logits_per_anchor, logits_per_other)``: ``(R, W*B)`` each, where ``R`` is
            ``B`` with ``local_loss`` (this rank's rows) and ``W*B`` otherwise.
        """
        a = F.normalize(anchor.float(), dim=-1)
        o = F.normalize(other.float(), dim=-1)
        scale = self.scale()
        all_a, all_o = self._gather(a), self._gather(o)
        if self.config.local_loss:
            return scale * a @ all_o.T, scale * o @ all_a.T
        logits = scale * all_a @ all_o.T
        return logits, logits.T

    def get_ground_truth(self, batch_size: int, device: torch.device,
                         ids: Tensor | None = None) -> Tensor:
        """Targets for the rows :meth:`get_logits` returns.

        Args:
            batch_size: this rank's batch size ``B``.
            device: where to put the targets.
            ids: ``(B,)`` int64 content ids of this rank's pairs (equal ids = duplicates),
                or ``None`` when every pair is distinct.

        Returns:
            Without ``ids``: ``(R,)`` int64 class indices (the diagonal, offset by
            ``rank * B`` with ``local_loss``). With ``ids``: ``(R, W*B)`` float target
            distributions, uniform over the columns that share the row's id.
        """
        c = self.config
        if ids is None:
            if self.world_size == 1:
                return torch.arange(batch_size, device=device)
            if c.local_loss:
                return torch.arange(batch_size, device=device) + batch_size * self.rank
            return torch.arange(batch_size * self.world_size, device=device)
        ids = ids.to(device=device, dtype=torch.long).reshape(-1)
        if ids.shape[0] != batch_size:
            raise ConfigError(f"ids has {ids.shape[0]} entries for a batch of {batch_size}")
        all_ids = gather_features(ids, self.rank, self.world_size)
        rows = ids if c.local_loss else all_ids
        same = (rows[:, None] == all_ids[None, :]).float()  # (R, W*B)
        return same / same.sum(dim=1, keepdim=True)

    def pair_loss(self, anchor: Tensor, other: Tensor, ids: Tensor | None = None) -> Tensor:
        """Symmetric InfoNCE of one pair: the mean of both directions' cross-entropies."""
        if anchor.ndim != 2 or anchor.shape != other.shape:
            raise ConfigError(f"paired embeddings must both be (B, D), got "
                              f"{tuple(anchor.shape)} and {tuple(other.shape)}")
        logits_a, logits_o = self.get_logits(anchor, other)
        target = self.get_ground_truth(anchor.shape[0], logits_a.device, ids)
        loss = 0.5 * (F.cross_entropy(logits_a, target) + F.cross_entropy(logits_o, target))
        if target.is_floating_point():
            # report KL(target || softmax) = CE - H(target): 0 at a perfect fit, as one-hot CE
            loss = loss + torch.xlogy(target, target).sum(dim=1).mean()
        return loss

    def pair_losses(self, features: Mapping[str, Tensor],
                    ids: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
        """The unweighted loss of every enabled pair.

        Args:
            features: modality -> ``(B, D)`` embeddings; must hold the anchor and every
                enabled pair (other modalities are ignored); optionally
                :data:`LABEL_PROTOTYPES` -> ``(K, D)`` this step's label prototypes.
            ids: optional modality -> ``(B,)`` content ids of that pair's partner
                (duplicates get soft targets; see the module docstring); ``"label"``: the
                windows' activity ids for the label term (left out: no label term).

        Returns:
            pair modality (and ``"label"``) -> scalar loss.

        Raises:
            ConfigError: the anchor or an enabled pair is missing, or shapes disagree.
        """
        c = self.config
        missing = [m for m in (c.anchor, *c.pairs) if m not in features]
        if missing:
            raise ConfigError(f"the loss needs embeddings for {missing} (enabled pairs "
                              f"{sorted(c.pairs)}); give them or switch those pairs off")
        ids = ids or {}
        out = {str(m): self.pair_loss(features[c.anchor], features[m], ids.get(m))
               for m in c.pairs}
        if c.label_weight > 0 and "label" in ids:
            out["label"] = self.label_loss(features[c.anchor], ids["label"],
                                           features.get(LABEL_PROTOTYPES))
        return out

    def weights(self) -> dict[str, float]:
        """The weight of each term :meth:`pair_losses` returns (``"label"`` when enabled)."""
        out = {str(k): w for k, w in self.config.pairs.items()}
        if self.config.label_weight > 0:
            out["label"] = self.config.label_weight
        return out

    def forward(self, features: Mapping[str, Tensor],
                ids: Mapping[str, Tensor] | None = None) -> Tensor:
        """The weighted sum of the enabled pairs' losses (see :meth:`pair_losses`)."""
        weights = self.weights()
        losses = self.pair_losses(features, ids)
        return torch.stack([weights[k] * v for k, v in losses.items()]).sum()
