"""The trainer on one CPU process: it learns, checkpoints atomically, and loads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_train_config import tiny_config, tiny_corpus

torch = pytest.importorskip("torch")

from aura_sdk import ConfigError  # noqa: E402
from aura_sdk.preprocessing import PreprocessConfig, preprocess  # noqa: E402
from aura_training.corpus import CorpusReader  # noqa: E402
from aura_training.models import MultiModalEncoder  # noqa: E402
from aura_training.train import (  # noqa: E402
    Trainer,
    find_checkpoint,
    load_checkpoint,
    read_checkpoint,
    read_metrics,
)
from aura_training.train import _checkpoint as ckpt_mod  # noqa: E402

TINY_MODEL_IMU: dict[str, Any] = {"preset": "imu-xs", "dim": 32, "depth": 1, "heads": 2,
                                   "mlp_dim": 64}
TINY_TEXT_PROJECTED: dict[str, Any] = {
    "imu": TINY_MODEL_IMU,
    "text": {"preset": "text-minilm", "projection": True},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Evaluate on (un-augmented) training windows, train 16 steps, evaluate again."""
    out = tmp_path_factory.mktemp("run")
    # Wrist streams only: 16 steps on the tiny corpus show learning on one placement; with
    # every placement (2 of a clip's 5 streams are wrists) so few steps are too noisy to.
    cfg = tiny_config(out, steps=16, checkpoint_every=8, optim={"lr": 3e-3},
                      data={"val_split": "train", "locations": ["left_wrist", "right_wrist"]},
                      eval_batches=3, augment={"enabled": False})
    with Trainer(cfg, resume=False) as tr:
        before = tr.evaluate()
        t0 = tr.loss_fn.temperature
        result = tr.fit()
        probe = tr.model.encoders["imu"](tr.eval_cache[0]["imu"]).detach()  # type: ignore[index]
        first_batch = tr.eval_cache[0]  # type: ignore[index]
        t1 = tr.loss_fn.temperature
    return {"out": out, "cfg": cfg, "before": before, "after": result.eval, "result": result,
            "probe": probe, "batch": first_batch, "t0": t0, "t1": t1}


def test_a_few_steps_reduce_the_loss(trained: dict[str, Any]) -> None:
    before, after = trained["before"], trained["after"]
    print(f"val loss {before['val_loss']:.3f} -> {after['val_loss']:.3f}; "
          f"per pair {[(k, round(before[k], 3), round(after[k], 3)) for k in before]}")
    assert after["val_loss"] < before["val_loss"] - 0.2
    for pair in ("text", "video", "mocap"):
        assert after[f"val_loss_{pair}"] < before[f"val_loss_{pair}"]
    # the learnable temperature is really optimised (and stays in its clamp)
    assert trained["t1"] != trained["t0"] and 0.01 <= trained["t1"] <= 1.0
    losses = [v for _, v in trained["result"].losses]
    assert len(losses) == 16 and all(np.isfinite(losses))


def test_metrics_csv_has_every_step_and_the_evaluation(trained: dict[str, Any]) -> None:
    rows = read_metrics(trained["out"] / "metrics.csv")
    train_rows = [r for r in rows if r["loss"]]
    assert [int(r["step"]) for r in train_rows] == list(range(1, 17))
    assert np.allclose([float(r["loss"]) for r in train_rows],
                       [v for _, v in trained["result"].losses], rtol=1e-5)
    lrs = [float(r["lr"]) for r in train_rows]
    assert lrs[0] == pytest.approx(3e-3 / 2) and lrs[1] == pytest.approx(3e-3)
    assert lrs[-1] < lrs[2]  # cosine decay
    evals = [r for r in rows if r["val_loss"]]
    assert len(evals) == 1 and int(evals[0]["step"]) == 16


def test_load_checkpoint_gives_the_trained_encoders(trained: dict[str, Any]) -> None:
    model, cfg, spec = load_checkpoint(trained["out"])
    assert isinstance(model, MultiModalEncoder) and not model.training
    assert set(model.encoders) == {"imu", "text", "video", "mocap"}
    assert cfg == trained["cfg"]
    assert spec.sample_rate_hz == 50.0 and spec.window_samples == 250
    assert spec.gravity == "either"
    # computed from the training windows; per axis, since this run does not rotate
    assert 2.0 < spec.norm_std[0] < 15.0 and spec.norm_std[0] != spec.norm_std[2]
    with torch.no_grad():
        again = model.encoders["imu"](trained["batch"]["imu"])
    assert torch.allclose(again, trained["probe"], atol=1e-6)
    imu, _, _ = load_checkpoint(trained["out"], imu_only=True)
    assert not isinstance(imu, MultiModalEncoder)
    # the runtime's windows of a raw recording go straight into the loaded encoder
    st = next(iter(CorpusReader(tiny_corpus(), "val"))).imu["right_wrist"]
    w = preprocess(st.data, st.spec, spec, t=st.t, config=PreprocessConfig(pad_min_fraction=0.2))
    with torch.no_grad():
        emb = imu(torch.from_numpy(w.x))
    assert emb.shape == (len(w), 384)
    assert torch.allclose(emb.norm(dim=1), torch.ones(len(w)), atol=1e-5)
    ck = read_checkpoint(trained["out"])
    assert ck.step == 16 and 0.01 <= ck.temperature <= 1.0
    assert ck.state["data"]["world_size"] == 1 and ck.state["metrics"]["val_loss"] > 0


def test_a_crash_mid_write_leaves_the_previous_checkpoint(
        trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    cfg = tiny_config(out, steps=8, checkpoint_every=4)
    real = ckpt_mod._fsync_write

    def torn(path: Path, data: bytes) -> None:
        if "step-00000008" in str(path) and path.name == "optimizer.safetensors":
            with open(path, "wb") as f:
                f.write(data[: len(data) // 3])  # half a file, then the power goes
            raise OSError("simulated crash while writing")
        real(path, data)

    monkeypatch.setattr(ckpt_mod, "_fsync_write", torn)
    with Trainer(cfg, resume=False) as tr, pytest.raises(OSError, match="simulated"):
        tr.fit()
    root = out / "checkpoints"
    assert any(p.name.startswith(".tmp-step-00000008") for p in root.iterdir())
    assert json.loads((root / "latest.json").read_text())["step"] == 4
    assert find_checkpoint(out) == root / "step-00000004"
    model, _, _ = load_checkpoint(out)
    assert isinstance(model, MultiModalEncoder)
    # a fresh trainer resumes from step 4, finishes, and cleans the debris up
    monkeypatch.setattr(ckpt_mod, "_fsync_write", real)
    with Trainer(cfg) as tr:
        assert tr.step == 4
        tr.fit()
    assert sorted(p.name for p in root.iterdir()) == [
        "latest.json", "step-00000004", "step-00000008"]
    with pytest.raises(ConfigError, match="no complete training checkpoint"):
        load_checkpoint(tmp_path / "nothing")


def test_resuming_with_another_config_is_refused(trained: dict[str, Any]) -> None:
    cfg = tiny_config(trained["out"], steps=16, checkpoint_every=8, data={"val_split": "train"},
                      optim={"lr": 1e-4})
    with pytest.raises(ConfigError, match="different config"):
        Trainer(cfg)


def test_the_label_term_classifies_among_every_training_activity(tmp_path: Path) -> None:
    from aura_training.corpus import load_manifest
    from aura_training.text import label_prompts

    cfg = tiny_config(tmp_path / "run", steps=4, checkpoint_every=4, loss={"label_weight": 0.5},
                      data={"val_split": "val"})
    manifest = load_manifest(cfg.data.dir)
    train_acts = sorted(a for a, s in manifest.splits["train"].activities.items() if a and s > 0)
    with Trainer(cfg, resume=False) as tr:
        protos, ids = tr.loss_fn.label_prototypes, tr.loss_fn.label_ids
        assert protos.shape == (len(train_acts), 384)
        # held-out activities (test split only) get no prototype: zero-shot stays zero-shot
        for a in manifest.held_out_activities:
            assert a not in train_acts
        # each prototype is the normalised mean of its activity's train prompts
        index, emb = tr.text.index(), tr.text.embeddings
        k = len(train_acts) // 2
        want = emb[[index[p] for p in label_prompts(train_acts[k], "train")]].mean(axis=0)
        assert np.allclose(protos[k].numpy(), want / np.linalg.norm(want), atol=1e-6)
        batch = next(tr._train_batches())
        _, batch_ids = tr._inputs(batch)
        # every training window is one of the classes
        assert bool(torch.isin(batch_ids["label"], ids).all())
        # MiniLM without a projection: the prototypes are used as set (unit vectors already)
        from aura_training.losses import LABEL_PROTOTYPES
        from aura_training.train._trainer import label_features

        assert LABEL_PROTOTYPES not in label_features(tr.model, tr.loss_fn, {})
        result = tr.fit()
    rows = [r for r in read_metrics(tmp_path / "run" / "metrics.csv") if r["loss"]]
    label = [float(r["loss_label"]) for r in rows]
    text = [float(r["loss_text"]) for r in rows]
    assert len(label) == 4 and all(np.isfinite(label))
    # the total is the pairs plus half the label term
    total = [float(r["loss"]) for r in rows]
    pairs = [sum(float(r[f"loss_{m}"]) for m in ("text", "video", "mocap")) for r in rows]
    assert np.allclose(total, np.array(pairs) + 0.5 * np.array(label), rtol=1e-4)
    assert text and result.step == 4


def test_the_label_term_needs_the_text_pair(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="enable the text pair"):
        tiny_config(tmp_path, loss={"label_weight": 0.5, "pairs": {"video": 1.0}})


def test_the_label_term_trains_a_text_projection_as_the_export_applies_it(
        tmp_path: Path) -> None:
    from aura_training.losses import LABEL_PROTOTYPES
    from aura_training.train._trainer import label_features

    model = {**TINY_TEXT_PROJECTED}
    cfg = tiny_config(tmp_path / "run", steps=2, loss={"label_weight": 1.0,
                                                        "pairs": {"text": 1.0}}, model=model)
    with Trainer(cfg, resume=False) as tr:
        proj = tr.model.encoders["text"].proj
        with torch.no_grad():  # a projection that is not the identity
            proj.weight.mul_(0.5).add_(0.1 * torch.randn_like(proj.weight))
        batch = next(tr._train_batches())
        inputs, ids = tr._inputs(batch)
        feats = label_features(tr.model, tr.loss_fn, tr.model(inputs))
        raw = tr.loss_fn.label_prototypes
        want = torch.nn.functional.normalize(raw @ proj.weight.T + proj.bias, dim=-1)
        assert torch.allclose(feats[LABEL_PROTOTYPES], want, atol=1e-5)
        # the term reaches the projection (the export projects the raw prototypes with it)
        tr.loss_fn.label_loss(feats["imu"], ids["label"], feats[LABEL_PROTOTYPES]).backward()
        assert proj.weight.grad is not None and float(proj.weight.grad.abs().sum()) > 0


def test_a_run_without_a_text_encoder_trains(tmp_path: Path) -> None:
    """IMU-video alone (no text tower, so no label term): the step must not look for a text
    encoder; here with the motion video encoder, whose training jitter runs in the step."""
    from aura_training.train import load_config

    cfg = tiny_config(tmp_path / "run", steps=3, loss={"pairs": {"video": 1.0}})
    opts = cfg.model_dump(mode="json")
    opts["model"] = {"imu": TINY_MODEL_IMU,
                     "video": {"preset": "video-motion", "n_frames": 4, "widths": [8, 16]}}
    cfg = load_config(opts)
    with Trainer(cfg, resume=False) as tr:
        assert set(tr.model.encoders) == {"imu", "video"}
        result = tr.fit()
    rows = [r for r in read_metrics(tmp_path / "run" / "metrics.csv") if r["loss"]]
    assert result.step == 3 and len(rows) == 3
    assert all(np.isfinite(float(r["loss_video"])) and float(r["loss_video"]) > 0
               for r in rows)
    assert np.allclose([float(r["loss"]) for r in rows], [float(r["loss_video"]) for r in rows])
