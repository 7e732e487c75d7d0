"""`aura data` command object: parser wiring, `info` on a corpus, errors, exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_corpus_format import make_sample

from aura_sdk.cli._registry import Command
from aura_training.cli_data import DATA_COMMAND, main
from aura_training.corpus import CorpusWriter


def _corpus(root: Path) -> None:
    with CorpusWriter(root, source="test", generator={"name": "unit", "version": "0", "seed": 4},
                      held_out_activities=["sitting"], shard_seconds=12.0) as w:
        for i in range(6):
            w.add(make_sample(i, split=("train", "train", "val", "test", "test", "train")[i]))


def test_command_object_fits_the_registry_protocol() -> None:
    assert isinstance(DATA_COMMAND, Command)
    parser = argparse.ArgumentParser()
    DATA_COMMAND.configure(parser)
    args = parser.parse_args(["synth", "--minutes", "2", "--out", "x", "--seed", "3",
                              "--workers", "2", "--holdout", "rowing, jumping jacks"])
    assert (args.action, args.minutes, args.seed, args.workers) == ("synth", 2.0, 3, 2)
    assert args.holdout == ("rowing", "jumping jacks") and args.out == Path("x")
    assert parser.parse_args(["info", "d"]).dir == Path("d")


def test_info_describes_the_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _corpus(tmp_path)
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "clips       6 in " in out
    assert "duration    0.010 h" in out  # 6 clips x 6 s
    assert "modalities  imu, mocap, video, text" in out
    assert "seed 4" in out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ")}
    assert lines["train"].split()[1] == "3" and lines["val"].split()[1] == "1"
    assert lines["test"].split()[1] == "2"
    assert "held out    sitting" in out
    assert "walking" in out and "MB/h" in out


def test_info_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _corpus(tmp_path)
    assert main(["info", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["clips"] == 6 and summary["hours"] == pytest.approx(36 / 3600)
    assert summary["splits"]["test"]["clips"] == 2
    assert summary["activities"] == {"sitting": pytest.approx(18.0),
                                     "walking": pytest.approx(18.0)}
    total = sum((tmp_path / "shards" / p.name).stat().st_size
                for p in (tmp_path / "shards").iterdir())
    assert summary["bytes"] == total


def test_errors_are_reported_not_raised(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "none")]) == 1
    assert "aura data synth" in capsys.readouterr().err
    assert main(["synth", "--minutes", "-1", "--out", str(tmp_path / "c")]) == 1
    assert "minutes" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


def test_random_mount_shares_parse_validate_and_reach_the_config(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from aura_training.corpus._synth import SynthConfig

    parser = argparse.ArgumentParser()
    DATA_COMMAND.configure(parser)
    args = parser.parse_args(["synth", "--minutes", "1", "--out", "x",
                              "--random-mount", "wrist=0.15, waist=0.1"])
    assert args.random_mount == {"wrist": 0.15, "waist": 0.1}
    with pytest.raises(SystemExit):
        parser.parse_args(["synth", "--minutes", "1", "--out", "x", "--random-mount", "wrist"])
    assert SynthConfig(minutes=1, seed=0).random_mount == {}
    with pytest.raises(ValueError, match="unknown placements"):
        SynthConfig(minutes=1, seed=0, random_mount={"ankle": 0.1})
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        SynthConfig(minutes=1, seed=0, random_mount={"wrist": 1.5})
    assert main(["synth", "--minutes", "0.1", "--out", str(tmp_path / "c"),
                 "--random-mount", "chest=0.2"]) != 0
    assert "unknown placements" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
