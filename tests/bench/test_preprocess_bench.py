"""Smoke test of the preprocessing benchmark (numbers are checked for sanity, not speed)."""

import json

from aura_bench._preprocess import main, markdown, run_preprocess_bench


def test_preprocess_bench_reports_every_rate(tmp_path, capsys) -> None:
    res = run_preprocess_bench(rates=(25.0, 400.0), seconds=8.0, reps=1)
    assert [r["rate_hz"] for r in res["rows"]] == [25.0, 400.0]
    for r in res["rows"]:
        assert r["batch_samples_per_s_p50"] > 0
        assert 0 < r["stream_chunk_latency_us_p50"] <= r["stream_chunk_latency_us_p99"]
        assert r["stream_chunk_samples"] == round(r["rate_hz"] * 0.1)
    assert markdown(res).count("\n") == 3


def test_preprocess_bench_cli_writes_json(tmp_path, monkeypatch) -> None:
    import aura_bench._preprocess as mod

    monkeypatch.setattr(mod, "run_preprocess_bench",
                        lambda **kw: run_preprocess_bench(rates=(50.0,), seconds=4.0, reps=1))
    out = tmp_path / "p.json"
    assert main(["--quick", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["rows"][0]["rate_hz"] == 50.0
