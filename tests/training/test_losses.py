"""Contrastive and distillation losses: values, duplicates, temperature, gather, training."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from pydantic import ValidationError

from aura_sdk import ConfigError
from aura_training.losses import (
    ContrastiveLoss,
    ContrastiveLossConfig,
    DistillationLoss,
    DistillationLossConfig,
    gather_features,
    text_ids,
)
from aura_training.models import MultiModalEncoder, build_encoder

torch.set_num_threads(1)


def _unit(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g), dim=-1)


def _reference_infonce(a: np.ndarray, o: np.ndarray, scale: float) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    o = o / np.linalg.norm(o, axis=1, keepdims=True)
    logits = scale * a @ o.T

    def ce_diag(z: np.ndarray) -> float:
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-np.mean(np.diag(logp)))

    return 0.5 * (ce_diag(logits) + ce_diag(logits.T))


def test_pair_loss_matches_a_hand_computed_infonce() -> None:
    rng = np.random.default_rng(0)
    a, o = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    got = loss.pair_loss(torch.tensor(a, dtype=torch.float32), torch.tensor(o, dtype=torch.float32))
    assert got.item() == pytest.approx(_reference_infonce(a, o, 10.0), abs=1e-5)


def test_aligned_pairs_give_a_lower_loss_than_shuffled() -> None:
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    imu = _unit(16, 384, seed=1)
    aligned = loss({"imu": imu, "text": imu}).item()
    shuffled = loss({"imu": imu, "text": imu[torch.randperm(16, generator=torch.Generator()
                                                                .manual_seed(2))]}).item()
    # aligned: logits 10 on the diagonal, ~N(0, 0.5) off it -> near zero; shuffled: ~log 16 + 10
    assert aligned < 0.01
    assert shuffled > aligned + 5.0


def test_pairs_are_switchable_and_weighted() -> None:
    feats = {m: _unit(6, 32, seed=i) for i, m in enumerate(("imu", "text", "video", "mocap"))}
    full = ContrastiveLoss()
    per_pair = full.pair_losses(feats)
    assert set(per_pair) == {"text", "video", "mocap"}
    assert full(feats).item() == pytest.approx(sum(v.item() for v in per_pair.values()), rel=1e-6)
    text_only = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    assert text_only(feats).item() == pytest.approx(per_pair["text"].item(), rel=1e-6)
    weighted = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 2.0, "mocap": 0.5}))
    want = 2.0 * per_pair["text"].item() + 0.5 * per_pair["mocap"].item()
    assert weighted(feats).item() == pytest.approx(want, rel=1e-6)
    with pytest.raises(ConfigError, match="video"):
        full({"imu": feats["imu"], "text": feats["text"], "mocap": feats["mocap"]})


@pytest.mark.parametrize("bad", [
    {"pairs": {}}, {"pairs": {"text": 0.0}}, {"pairs": {"imu": 1.0}}, {"pairs": {"txt": 1.0}},
    {"temperature": 5.0}, {"local_loss": True, "gather_with_grad": False}, {"tau": 0.1},
])
def test_invalid_loss_configs_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ContrastiveLossConfig(**bad)  # type: ignore[arg-type]


def test_temperature_starts_at_0_1_and_the_optimiser_updates_it() -> None:
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    assert loss.temperature == pytest.approx(0.1, rel=1e-6)
    assert any(p is loss.logit_scale for p in loss.parameters())
    opt = torch.optim.SGD(loss.parameters(), lr=0.1)
    before = loss.logit_scale.item()
    loss({"imu": _unit(8, 16, seed=3), "text": _unit(8, 16, seed=4)}).backward()
    assert loss.logit_scale.grad is not None and loss.logit_scale.grad.abs().item() > 1e-4
    opt.step()
    assert loss.logit_scale.item() != pytest.approx(before, abs=1e-6)

    frozen = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}, learn_temperature=False))
    assert not frozen.logit_scale.requires_grad


def test_temperature_is_clamped() -> None:
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    with torch.no_grad():
        loss.logit_scale.fill_(10.0)  # T = 4.5e-5, below the 0.01 floor
    assert loss.scale().item() == pytest.approx(100.0, rel=1e-5)
    loss.clamp_()
    assert loss.logit_scale.item() == pytest.approx(math.log(100.0), rel=1e-6)
    with torch.no_grad():
        loss.logit_scale.fill_(-3.0)  # T = 20, above the 1.0 ceiling
    assert loss.temperature == pytest.approx(1.0, rel=1e-6)


def test_logits_and_ground_truth_are_separate() -> None:
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    a, o = _unit(4, 8, seed=5), _unit(4, 8, seed=6)
    per_a, per_o = loss.get_logits(a, o)
    assert per_a.shape == per_o.shape == (4, 4)
    torch.testing.assert_close(per_a, 10.0 * a @ o.T)
    torch.testing.assert_close(per_o, per_a.T)
    assert loss.get_ground_truth(4, torch.device("cpu")).tolist() == [0, 1, 2, 3]
    soft = loss.get_ground_truth(4, torch.device("cpu"), ids=torch.tensor([7, 9, 7, 3]))
    want = torch.tensor([[0.5, 0, 0.5, 0], [0, 1, 0, 0], [0.5, 0, 0.5, 0], [0, 0, 0, 1]])
    torch.testing.assert_close(soft, want)


def test_soft_targets_equal_hard_targets_when_texts_are_distinct() -> None:
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    a, o = _unit(6, 8, seed=7), _unit(6, 8, seed=8)
    ids = text_ids([f"caption {i}" for i in range(6)])
    assert loss.pair_loss(a, o, ids).item() == pytest.approx(loss.pair_loss(a, o).item(),
                                                             abs=1e-6)


def test_duplicate_captions_get_a_multi_positive_target() -> None:
    texts = ["walking", "walking", "cooking", "cycling"]
    text_emb = _unit(4, 384, seed=9)
    text_emb[1] = text_emb[0]  # the frozen tower gives identical texts identical embeddings
    imu = text_emb.clone()  # a perfectly aligned IMU encoder
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    imu_soft = imu.clone().requires_grad_(True)
    hard = loss({"imu": imu, "text": text_emb})
    soft = loss({"imu": imu_soft, "text": text_emb}, ids={"text": text_ids(texts)})
    # one-hot targets cannot be met for the two "walking" rows: each direction pays log 2 on
    # 2 of 4 rows -> about log(2) / 2; the soft target is met, so the loss is near zero.
    assert hard.item() == pytest.approx(math.log(2) / 2, abs=0.01)
    assert soft.item() < 0.01
    soft.backward()
    assert imu_soft.grad is not None and imu_soft.grad.norm().item() < 0.05  # a minimum


def test_text_ids_are_equal_exactly_for_equal_texts() -> None:
    ids = text_ids(["walking", "Walking", "walking", ""])
    assert ids.dtype == torch.int64
    assert ids[0] == ids[2] and ids[0] != ids[1] and ids[0] != ids[3]
    assert bool((ids >= 0).all())


def test_gather_features_without_a_process_group() -> None:
    x = _unit(3, 4, seed=10)
    assert gather_features(x, 0, 1) is x
    assert gather_features(x, 0, 1, local_loss=True, gather_with_grad=True) is x
    with pytest.raises(ConfigError):
        gather_features(x, 1, 1)
    with pytest.raises(ConfigError, match="init_process_group"):
        gather_features(x, 0, 2)


def _gloo_worker(rank: int, world: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    try:
        b, d = 3, 8
        g = torch.Generator().manual_seed(123)
        feats = {m: torch.randn(world * b, d, generator=g) for m in ("imu", "text", "video")}
        ids = torch.tensor([11, 12, 13, 14, 11, 16])  # a caption shared across the two ranks
        mine = slice(rank * b, (rank + 1) * b)

        for with_grad in (False, True):
            got = gather_features(feats["imu"][mine], rank, world, gather_with_grad=with_grad)
            torch.testing.assert_close(got, feats["imu"], rtol=0, atol=0)

        base = {"pairs": {"text": 1.0, "video": 0.5}}
        ref_fn = ContrastiveLoss(ContrastiveLossConfig(**base))  # type: ignore[arg-type]
        ref_imu = feats["imu"].clone().requires_grad_(True)
        ref = ref_fn({**feats, "imu": ref_imu}, ids={"text": ids})
        ref.backward()
        assert ref_imu.grad is not None and ref_fn.logit_scale.grad is not None
        results = {"ref": ref.item()}
        for local, with_grad in ((False, True), (True, True), (False, False)):
            cfg = ContrastiveLossConfig(**base, local_loss=local,  # type: ignore[arg-type]
                                        gather_with_grad=with_grad)
            fn = ContrastiveLoss(cfg, rank=rank, world_size=world)
            x = feats["imu"][mine].clone().requires_grad_(True)
            loss = fn({"imu": x, "text": feats["text"][mine], "video": feats["video"][mine]},
                      ids={"text": ids[mine]})
            loss.backward()
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            mean /= world
            scale_grad = fn.logit_scale.grad.detach().clone()  # type: ignore[union-attr]
            dist.all_reduce(scale_grad)
            scale_grad /= world
            torch.testing.assert_close(mean, ref.detach(), rtol=1e-5, atol=1e-6)
            if not local:  # every rank computes the whole global loss
                torch.testing.assert_close(loss.detach(), ref.detach(), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(scale_grad, ref_fn.logit_scale.grad, rtol=1e-4,
                                       atol=1e-6)
            # through the autograd gather every rank's loss reaches x: W x the global gradient;
            # the detached gather keeps only this rank's own path: exactly the global gradient
            factor = world if with_grad else 1
            assert x.grad is not None
            torch.testing.assert_close(x.grad, factor * ref_imu.grad[mine], rtol=1e-4,
                                       atol=1e-6)
            results[f"local={local},grad={with_grad}"] = loss.item()
        torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_match_the_single_process_loss(tmp_path: Path) -> None:
    mp.spawn(_gloo_worker, args=(2, str(tmp_path / "rendezvous"), str(tmp_path)), nprocs=2,
             join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert r0["ref"] == pytest.approx(r1["ref"], abs=0)
    assert r0["local=False,grad=True"] == pytest.approx(r0["ref"], rel=1e-5)
    assert r1["local=False,grad=True"] == pytest.approx(r0["ref"], rel=1e-5)
    local_mean = 0.5 * (r0["local=True,grad=True"] + r1["local=True,grad=True"])
    assert local_mean == pytest.approx(r0["ref"], rel=1e-5)
    print(f"2-rank gloo: global loss {r0['ref']:.6f}, local-loss ranks "
          f"{r0['local=True,grad=True']:.6f} / {r1['local=True,grad=True']:.6f}")


def test_distillation_loss_adds_a_teacher_term_and_spares_the_teacher() -> None:
    cfg = DistillationLossConfig()
    assert set(cfg.pairs) == {"text"}
    loss = DistillationLoss(cfg)
    assert isinstance(loss, ContrastiveLoss)
    student = _unit(6, 16, seed=11).requires_grad_(True)
    text = _unit(6, 16, seed=12)
    teacher = _unit(6, 16, seed=13).requires_grad_(True)
    contrastive = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))(
        {"imu": student, "text": text})
    same = loss({"imu": student, "text": text}, teacher=student.detach())
    assert same.item() == pytest.approx(contrastive.item(), abs=1e-6)  # cos = 1: no penalty
    total = loss({"imu": student, "text": text}, teacher=teacher)
    want_distill = (1 - (student * teacher).sum(-1)).mean()
    assert total.item() == pytest.approx(contrastive.item() + want_distill.item(), abs=1e-5)
    total.backward()
    assert teacher.grad is None and student.grad is not None
    mse = DistillationLoss(DistillationLossConfig(distill="mse", distill_weight=2.0))
    terms = mse.pair_losses({"imu": student, "text": text}, teacher=teacher)
    assert terms["distill"].item() == pytest.approx(F.mse_loss(student, teacher).item(), rel=1e-6)
    with pytest.raises(ConfigError, match="teacher"):
        loss({"imu": student, "text": text})


def _tiny_model() -> MultiModalEncoder:
    return MultiModalEncoder({
        "imu": build_encoder("imu-xs", window_s=2.0, depth=2),
        "text": build_encoder("text-minilm-proj"),
        "video": build_encoder("video-cnn", frame_size=16, widths=(8, 16)),
        "mocap": build_encoder("mocap-cnn", window_s=2.0, widths=(16, 16)),
    })


def _tiny_batch(model: MultiModalEncoder, b: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(21)
    return {name: enc.dummy_input(b, generator=g)  # type: ignore[operator]
            for name, enc in model.encoders.items()}


def test_training_steps_reduce_the_loss_and_reach_every_encoder() -> None:
    torch.manual_seed(0)
    model = _tiny_model()
    loss_fn = ContrastiveLoss()
    batch = _tiny_batch(model, 8)
    opt = torch.optim.AdamW([*model.parameters(), *loss_fn.parameters()], lr=3e-3,
                            weight_decay=0.0)
    losses = []
    for step in range(12):
        opt.zero_grad()
        loss = loss_fn(model(batch))
        loss.backward()
        if step == 0:
            for name, enc in model.encoders.items():
                grads = [p.grad for p in enc.parameters()]
                assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
                assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0, name
            assert loss_fn.logit_scale.grad is not None
            assert loss_fn.logit_scale.grad.abs().item() > 0
        opt.step()
        loss_fn.clamp_()
        losses.append(loss.item())
    print(f"tiny 4-modality training: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    assert losses[0] > 3 * math.log(8) * 0.8  # about chance for three pairs
    assert losses[-1] < 0.5 * losses[0]


def test_seeded_models_and_losses_are_deterministic() -> None:
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        model = _tiny_model().eval()
        batch = _tiny_batch(model, 4)
        with torch.no_grad():
            outs.append(ContrastiveLoss()(model(batch)))
    assert torch.equal(outs[0], outs[1])
    torch.manual_seed(8)
    other = _tiny_model().eval()
    with torch.no_grad():
        assert not torch.equal(ContrastiveLoss()(other(_tiny_batch(other, 4))), outs[0])


def _label_loss(weight: float = 0.5) -> tuple[ContrastiveLoss, torch.Tensor, torch.Tensor]:
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}, label_weight=weight))
    protos = _unit(4, 8, seed=11) * 3.0  # not unit: the loss normalises them
    ids = torch.tensor([101, 202, 303, 404])
    loss.set_label_prototypes(protos, ids)
    return loss, protos, ids


def test_label_term_matches_a_hand_computed_cross_entropy() -> None:
    loss, protos, _ = _label_loss()
    imu = _unit(5, 8, seed=12) * 2.0
    # window 3's activity has no prototype (e.g. unlabelled): it is left out
    acts = torch.tensor([303, 101, 404, 999, 303])
    got = float(loss.label_loss(imu, acts).detach())
    a = F.normalize(imu, dim=-1).numpy()
    p = F.normalize(protos, dim=-1).numpy()
    z = 10.0 * a @ p.T  # T = 0.1
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want = -np.mean([logp[0, 2], logp[1, 0], logp[2, 3], logp[4, 2]])
    assert got == pytest.approx(want, rel=1e-5)
    # a window pulled onto its own prototype scores lower than one on a rival's
    with torch.no_grad():
        near = float(loss.label_loss(F.normalize(protos[[2]], dim=-1), torch.tensor([303])))
        far = float(loss.label_loss(F.normalize(protos[[1]], dim=-1), torch.tensor([303])))
    assert near < math.log(4) < far


def test_label_term_is_weighted_into_the_total_only_when_enabled() -> None:
    loss, _, _ = _label_loss(weight=0.25)
    imu, text = _unit(6, 8, seed=13), _unit(6, 8, seed=14)
    acts = torch.tensor([101, 202, 303, 404, 101, 202])
    feats = {"imu": imu, "text": text}
    with torch.no_grad():
        parts = loss.pair_losses(feats, {"label": acts})
        total = float(loss(feats, {"label": acts}))
    assert set(parts) == {"text", "label"} and loss.weights() == {"text": 1.0, "label": 0.25}
    assert total == pytest.approx(float(parts["text"]) + 0.25 * float(parts["label"]))
    # without the windows' activities (e.g. the trainer's quick evaluation of old runs) the
    # term is simply absent; with weight 0 it is never computed
    assert set(loss.pair_losses(feats)) == {"text"}
    off = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}))
    assert set(off.pair_losses(feats, {"label": acts})) == {"text"}
    assert "label" not in off.weights()


def test_label_term_without_a_known_activity_is_zero_and_keeps_the_graph() -> None:
    loss, _, _ = _label_loss()
    imu = _unit(3, 8, seed=15).requires_grad_(True)
    out = loss.label_loss(imu, torch.tensor([-1, -1, 7]))
    assert float(out.detach()) == 0.0
    out.backward()
    assert imu.grad is not None and float(imu.grad.abs().sum()) == 0.0


def test_label_term_refuses_missing_or_malformed_prototypes() -> None:
    loss = ContrastiveLoss(ContrastiveLossConfig(pairs={"text": 1.0}, label_weight=1.0))
    with pytest.raises(ConfigError, match="needs label prototypes"):
        loss.pair_losses({"imu": _unit(2, 8, seed=1), "text": _unit(2, 8, seed=2)},
                         {"label": torch.tensor([1, 2])})
    with pytest.raises(ConfigError, match="at least 2"):
        loss.set_label_prototypes(_unit(1, 8, seed=3), torch.tensor([1]))
    with pytest.raises(ConfigError, match="distinct"):
        loss.set_label_prototypes(_unit(2, 8, seed=3), torch.tensor([5, 5]))
    with pytest.raises(ConfigError, match="one id each"):
        loss.set_label_prototypes(_unit(3, 8, seed=3), torch.tensor([1, 2]))
    loss.set_label_prototypes(_unit(3, 8, seed=3), torch.tensor([1, 2, 3]))
    with pytest.raises(ConfigError, match="do not match"):
        loss.label_loss(_unit(2, 16, seed=4), torch.tensor([1, 2]))
    with pytest.raises(ValidationError):
        ContrastiveLossConfig(label_weight=-1.0)
    with pytest.raises(ValidationError):
        ContrastiveLossConfig(label_weight=float("inf"))
