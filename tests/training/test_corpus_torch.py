"""The torch wrapper: DataLoader workers and ranks split the shards; the reader needs no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_corpus_format import make_sample

from aura_training.corpus import CorpusWriter, Sample

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from aura_training.corpus.torch_dataset import CorpusDataset  # noqa: E402


def _clip_id(s: Sample) -> str:
    return s.clip_id


def _keep(batch: list[str]) -> list[str]:
    return batch


def test_reader_module_does_not_import_torch() -> None:
    code = ("import sys, aura_training.corpus, aura_training.render, aura_training.text; "
            "sys.exit(int('torch' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_workers_and_ranks_read_every_clip_once(tmp_path: Path) -> None:
    with CorpusWriter(tmp_path, source="test", shard_seconds=6.0) as w:
        for i in range(8):
            w.add(make_sample(i, video=False))
    seen: list[str] = []
    for rank in range(2):
        ds = CorpusDataset(tmp_path, "train", modalities=["imu"], transform=_clip_id,
                           shuffle_seed=1, drop_uneven=False, rank=rank, world_size=2)
        ds.set_epoch(3)
        loader = DataLoader(ds, batch_size=2, num_workers=2, collate_fn=_keep)
        seen += [c for batch in loader for c in batch]
    assert sorted(seen) == [f"clip{i:04d}" for i in range(8)]
