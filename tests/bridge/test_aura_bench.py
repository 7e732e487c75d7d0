"""Smoke test of the AURA decoder benchmark (aura_bench.decode): runs, checks, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aura_bench import run_decode_bench
from aura_bench._decode import bench_one, main, wrist_recording


def test_bench_rows_and_headline() -> None:
    res = run_decode_bench(per_frame=(4, 16), n_samples=2_000, warmup=0, reps=3)
    assert [(r["framing"], r["samples_per_frame"]) for r in res["rows"]] == [
        ("stream", 4), ("stream", 16), ("packet", 4), ("packet", 16),
        ("packet-batch", 4), ("packet-batch", 16)]
    row = res["rows"][1]
    assert row["samples"] == 2_000 and row["frame_bytes"] == 203 and row["runs"] == 3
    # 125 frames of 203 bytes + COBS code + delimiter, plus the 34-byte HELLO on the wire
    assert row["bytes"] == 125 * 205 + 34
    m = row["mb_per_s"]
    assert 0 < m["p10"] <= m["p50"] <= m["p90"]
    assert res["headline"]["mb_per_s_p50"] == m["p50"]
    assert res["ble_samples_per_frame_mtu247"] == 19


def test_bench_refuses_unknown_framing() -> None:
    with pytest.raises(ValueError, match="framing"):
        bench_one(wrist_recording(10), 4, "carrier-pigeon", 4096, 0, 1)


def test_main_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    import aura_bench._decode as mod

    real = mod.run_decode_bench
    monkeypatch.setattr(mod, "run_decode_bench",
                        lambda **kw: real(per_frame=(16,), n_samples=500, warmup=0, reps=2))
    out = tmp_path / "decode.json"
    assert main(["--quick", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["benchmark"] == "aura_decode" and res["target_mb_per_s"] == 10.0
    assert "| stream | 16 | 203 |" in capsys.readouterr().out
