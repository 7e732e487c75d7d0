"""The trainer's quick validation: loss and in-batch retrieval top-1 on the val split.

The full evaluation (retrieval MRR / R@k over the whole split, zero-shot classification,
probes) is ``aura eval``'s job; this is the cheap signal logged while training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist

from ..losses import ContrastiveLoss

if TYPE_CHECKING:
    from ._trainer import Trainer

__all__ = ["evaluate_batches"]


def evaluate_batches(trainer: Trainer, batches: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Evaluate the trainer's model on ``batches`` (summed over ranks under DDP).

    Each rank scores its own batches with a single-rank loss (no gather, so ranks may hold
    different numbers of batches) at the current temperature; one all-reduce sums the
    totals.

    Returns:
        ``val_loss`` (with the label term when the run has one), ``val_loss_<pair>``
        (means over batches) and ``val_top1_<pair>``:
        the fraction of IMU windows whose most similar partner in the batch is their own
        (for text, any equal text counts); when distilling, ``val_teacher_cos``: the mean
        cosine between the student's and the teacher's embeddings.
    """
    from ._trainer import label_features  # the trainer imports this module

    c, d = trainer.config, trainer.dist
    pairs = list(c.loss.pairs)
    local = ContrastiveLoss(c.loss).to(d.device)
    with torch.no_grad():
        local.logit_scale.copy_(trainer.loss_fn.logit_scale.detach())
    if trainer.loss_fn.label_prototypes.shape[0]:
        local.set_label_prototypes(trainer.loss_fn.label_prototypes, trainer.loss_fn.label_ids)
    weights = local.weights()
    # [batches, windows, total loss, loss per pair..., correct per pair...]
    sums = torch.zeros(4 + 2 * len(pairs), dtype=torch.float64, device=d.device)
    was_training = trainer.model.training
    trainer.model.eval()
    try:
        with torch.no_grad(), trainer._autocast():
            for batch in batches:
                inputs, ids = trainer._inputs(batch)
                feats = label_features(trainer.model, local, trainer.model(inputs))
                parts = local.pair_losses(feats, ids)
                imu = feats["imu"].float()
                teacher = trainer.teacher_embeddings(inputs["imu"], inputs.get("imu_placement"))
                if teacher is not None:
                    sums[-1] += torch.nn.functional.cosine_similarity(
                        imu, teacher.float(), dim=-1).sum().double()
                sums[0] += 1
                sums[1] += imu.shape[0]
                sums[2] += sum(weights[k] * float(v) for k, v in parts.items())
                for j, m in enumerate(pairs):
                    sums[3 + j] += float(parts[m])
                    pred = (imu @ feats[m].float().T).argmax(dim=1)
                    if m in ids:
                        hit = ids[m][pred] == ids[m]
                    else:
                        hit = pred == torch.arange(imu.shape[0], device=pred.device)
                    sums[3 + len(pairs) + j] += hit.sum().double()
    finally:
        trainer.model.train(was_training)
    if d.distributed:
        dist.all_reduce(sums)
    n_batches, n_windows = float(sums[0]), float(sums[1])
    if n_batches == 0:
        return {}
    out = {"val_loss": float(sums[2]) / n_batches}
    for j, m in enumerate(pairs):
        out[f"val_loss_{m}"] = float(sums[3 + j]) / n_batches
        out[f"val_top1_{m}"] = float(sums[3 + len(pairs) + j]) / n_windows
    if trainer.teacher is not None:
        out["val_teacher_cos"] = float(sums[-1]) / n_windows
    return out
