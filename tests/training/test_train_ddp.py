"""Two gloo ranks under ``torchrun`` train the ``smoke`` preset in step, and agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_train_config import tiny_corpus

pytest.importorskip("torch")

from aura_training.train import load_checkpoint, read_checkpoint


def test_two_rank_torchrun_smoke(tmp_path: Path) -> None:
    corpus = tiny_corpus()
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc_per_node", "2", "-m", "aura_training.cli_train", "--preset", "smoke",
           "--data", str(corpus), "--out", str(out), "--steps", "6", "--quiet",
           "--set", f"data.text_cache={corpus.parent / 'text_cache.npz'}",
           "--set", "threads=1", "--set", "batch_size=8", "--set", "checkpoint_every=3",
           "--set", "input.norm_clips=6"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "error"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, env=env,
                          check=False)
    print(proc.stdout[-2000:], proc.stderr[-4000:])
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((out / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["step"] for r in ranks] == [6, 6]
    # every rank computes the global-batch loss (features gathered), and DDP keeps the
    # parameters identical, bit for bit
    assert ranks[0]["losses"] == ranks[1]["losses"]
    assert len(ranks[0]["losses"]) == 6
    assert ranks[0]["params_sha256"] == ranks[1]["params_sha256"]
    ck = read_checkpoint(out)
    assert ck.step == 6 and ck.state["data"]["world_size"] == 2
    assert len(ck.state["data"]["positions"]) == 2 and len(ck.state["rng"]) == 2
    assert ck.config.batch_size == 8 and ck.config.name == "smoke"
    model, _, spec = load_checkpoint(out)
    assert spec.window_samples == 250 and set(model.encoders) >= {"imu", "video", "mocap"}
    assert "trained 6 steps" in proc.stdout
