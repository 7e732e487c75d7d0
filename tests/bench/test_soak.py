"""The soak harness (aura_bench.soak): a short real run, and its verdicts on made-up hours."""

from __future__ import annotations

import pytest

from aura_bench.soak import expected_windows, run_soak, soak_markdown, verdict


def test_a_short_soak_delivers_every_window_of_every_stream() -> None:
    res = run_soak(hours=0.1, streams=3, chunk_s=0.2, seed=5)
    per = expected_windows(360.0, 5.0, 2.5)
    assert per == 143
    assert res["expected_per_stream"] == per
    assert res["events_per_stream"] == {f"wrist{i:03d}": per for i in range(3)}
    assert res["lost"] == {} and res["verdict"]["no_event_lost"]
    (row,) = res["rows"]
    assert row["hour"] == 1 and row["events"] == 3 * per
    assert row["events_min_per_stream"] == row["events_max_per_stream"] == per
    assert 0 < row["latency_p50_ms"] <= row["latency_p99_ms"] <= row["latency_max_ms"]
    assert row["rss_mb"] is None or row["rss_mb"] > 50  # a process with numpy and onnxruntime
    table = soak_markdown(res)
    assert f"| 1 | {3 * per} | {per}-{per} | {per} |" in table


def _rows(rss: list[float], p99: list[float]) -> list[dict]:
    return [{"hour": h + 1, "events": 10, "rss_mb": r, "latency_p99_ms": p}
            for h, (r, p) in enumerate(zip(rss, p99, strict=True))]


def test_verdicts_catch_growing_memory_drifting_latency_and_lost_events() -> None:
    flat = {"rows": _rows([120, 130, 131, 130, 132, 131, 130, 131], [3.0] * 8), "lost": {}}
    v = verdict(flat)
    assert v["flat_memory"] and v["no_latency_drift"] and v["no_event_lost"]
    assert v["rss_growth_mb"] == pytest.approx(2.0)  # hour 1's start-up is not counted
    leak = {"rows": _rows([120, 130, 140, 150, 160, 170, 180, 190], [3.0] * 8), "lost": {}}
    assert not verdict(leak)["flat_memory"]
    slow = {"rows": _rows([130] * 8, [3.0, 3.1, 3.0, 3.2, 5.0, 6.0, 7.0, 8.0]),
            "lost": {"wrist001": 2}}
    v = verdict(slow)
    assert not v["no_latency_drift"] and not v["no_event_lost"]
    assert expected_windows(4.9, 5.0, 2.5) == 0 and expected_windows(5.0, 5.0, 2.5) == 1


def test_the_docs_page_shows_a_stored_soak_or_says_how_to_make_one() -> None:
    from aura_bench._doc import _soak_section

    res = run_soak(hours=0.05, streams=2, chunk_s=0.5, seed=1)
    res["plot"] = "soak.png"
    text = _soak_section(res, "bench/")
    assert "python -m aura_bench.soak --hours 24" in text
    assert soak_markdown(res) in text
    assert "](bench/soak/soak.png)" in text
    assert "No soak result is stored yet" in _soak_section(None, "bench/")
