"""Shard assignment over ranks and workers, streaming, shuffling, windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_corpus_format import make_sample

from aura_sdk import ConfigError
from aura_training.corpus import CorpusReader, CorpusWriter, assign_shards, iter_windows


@pytest.mark.parametrize("n_shards", [0, 1, 7, 24, 25])
@pytest.mark.parametrize("world,workers", [(1, 1), (1, 4), (2, 3), (4, 2), (8, 4)])
@pytest.mark.parametrize("seed", [None, 5])
def test_readers_partition_the_shards(n_shards: int, world: int, workers: int,
                                      seed: int | None) -> None:
    for epoch in (0, 1):
        taken: list[int] = []
        counts = []
        for rank in range(world):
            for worker in range(workers):
                got = assign_shards(n_shards, rank, world, worker, workers, epoch=epoch,
                                    shuffle_seed=seed)
                taken += got
                counts.append(len(got))
        assert sorted(taken) == list(range(n_shards))  # no overlap, nothing missing
        assert max(counts) - min(counts) <= 1


def test_shuffled_order_changes_with_the_epoch_and_drop_uneven_evens_out() -> None:
    a = assign_shards(40, 0, 1, 0, 1, epoch=0, shuffle_seed=1)
    b = assign_shards(40, 0, 1, 0, 1, epoch=1, shuffle_seed=1)
    assert sorted(a) == sorted(b) and a != b
    counts = [len(assign_shards(23, r, 2, w, 3, drop_uneven=True)) for r in range(2)
              for w in range(3)]
    assert counts == [3] * 6


@pytest.mark.parametrize("args", [(5, 2, 2, 0, 1), (5, 0, 1, 1, 1), (5, 0, 0, 0, 1)])
def test_bad_reader_indices(args: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError):
        assign_shards(*args)


def _corpus(root: Path, n: int = 12) -> None:
    with CorpusWriter(root, source="test", shard_seconds=6.0) as w:
        for i in range(n):
            w.add(make_sample(i, split="train" if i < 9 else "test", video=False))


def test_every_clip_is_read_once_across_ranks_and_workers(tmp_path: Path) -> None:
    _corpus(tmp_path)
    reader = CorpusReader(tmp_path, split="train", modalities=["imu"])
    assert len(reader) == 9 and len(reader.shards) == 9
    seen = [s.clip_id for r in range(2) for w in range(2)
            for s in reader.iter_samples(r, 2, w, 2, shuffle_seed=3, epoch=2)]
    assert sorted(seen) == [f"clip{i:04d}" for i in range(9)]
    assert [s.clip_id for s in CorpusReader(tmp_path, split="test")] == [
        "clip0009", "clip0010", "clip0011"]


def test_windows_are_aligned_and_pure(tmp_path: Path) -> None:
    s = make_sample(0, seconds=6.0)  # walking 0-3 s, sitting 3-6 s
    wins = list(iter_windows(s, window_s=2.0, hop_s=1.0))
    assert [(w.start_s, w.activity) for w in wins] == [
        (0.0, "walking"), (1.0, "walking"), (3.0, "sitting"), (4.0, "sitting")]
    w = wins[1]
    assert w.mocap is not None and w.video is not None
    np.testing.assert_array_equal(w.mocap, s.mocap[10:30])  # type: ignore[index]
    np.testing.assert_array_equal(w.video, s.video[10:30])  # type: ignore[index]
    imu = w.imu["left_wrist"]
    assert imu.t.min() >= 0.0 and imu.t.max() < 2.0
    assert 98 <= imu.t.size <= 102
    full = s.imu["left_wrist"]
    first = int(np.searchsorted(full.t, 1.0))
    np.testing.assert_array_equal(imu.data[0], full.data[first])
    assert w.texts == ("a person walks.",) and w.params == {"speed_mps": 1.2}
    mixed = [x for x in iter_windows(s, 2.0, 1.0, pure=False) if x.activity is None]
    assert [x.start_s for x in mixed] == [2.0]
    assert mixed[0].texts == s.texts


def test_window_arguments() -> None:
    with pytest.raises(ConfigError):
        list(iter_windows(make_sample(0), window_s=0.0))
    assert list(iter_windows(make_sample(0, seconds=2.0), window_s=5.0)) == []
