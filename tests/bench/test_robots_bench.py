"""The robots benchmark (aura_bench.robots): a short real run of both passes over a robot log
with two IMUs, its JSON, and its section of the docs page written once and replaced in place.

Nothing asserts a speed. What is checked could be wrong: events against the windows the log
holds, per stream and in order, every sample counted, latencies positive and finite (sensor to
label above processing, by at least part of the resampler's look-ahead), CPU and wall times
consistent with each other, the page's other sections untouched byte for byte.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aura_bench.robots import SECTION, main, robots_markdown, update_doc, write_log
from aura_bench.soak import expected_windows

IMUS, RATE, SECONDS, SPEED = 2, 200.0, 12.0, 2.0
TOPICS = ["/imu_0/data", "/imu_1/data"]

PAGE = """\
# Benchmarks

## Reference results

Some table.

## Soak: 24 simulated hours

Soak table.

## Jetson

How to run on a Jetson.
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("robots")
    doc = tmp / "docs" / "benchmarks.md"
    doc.parent.mkdir()
    doc.write_text(PAGE, encoding="utf-8")
    out = tmp / "bench" / "robots.json"
    argv = ["--out", str(out), "--doc", str(doc), "--seconds", f"{SECONDS:g}", "--imus",
            str(IMUS), "--rate", f"{RATE:g}", "--threads", "1"]
    assert main([*argv, "--speed", f"{SPEED:g}"]) == 0
    first = (json.loads(out.read_text(encoding="utf-8")), doc.read_text(encoding="utf-8"))
    assert main([*argv, "--speed", "4"]) == 0  # again, into the page that has the section
    second = (json.loads(out.read_text(encoding="utf-8")), doc.read_text(encoding="utf-8"))
    return first, second


def _check_pass(p: dict, realtime: bool) -> None:
    per = expected_windows(SECONDS, 5.0, 2.5)
    assert per == 3 and p["expected_per_stream"] == per
    assert p["events_per_stream"] == dict.fromkeys(TOPICS, per)
    assert p["events"] == IMUS * per and p["lost"] == {} and p["in_order"]
    assert p["health"]["samples"] == p["samples_expected"] == IMUS * SECONDS * RATE
    lat = p["processing_latency"]
    assert lat["runs"] == IMUS * per
    assert all(math.isfinite(lat[k]) for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms"))
    assert 0 < lat["min_ms"] <= lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    assert lat["p99_ms"] < 2500  # well within a hop, even on a busy machine
    assert p["cpu_s"] > 0 and p["wall_s"] > 0
    assert p["cpu_s_per_log_s"] == pytest.approx(p["cpu_s"] / SECONDS)
    assert p["imus_per_core"] == pytest.approx(IMUS / p["cpu_s_per_log_s"])
    assert p["x_realtime"] == pytest.approx(SECONDS / p["wall_s"])
    assert p["inference_windows"] == IMUS * per and p["inference_calls"] >= 1
    if realtime:
        assert p["sensor_latency_missing"] == 0 and p["keeps_up"]
        sensor = p["sensor_latency"]
        assert sensor["runs"] == IMUS * per and math.isfinite(sensor["max_ms"])
        # the last sample waits at least for the look-ahead that follows it (0.2 s of log),
        # played at the pass's speed; the last window of a stream is completed by the log's
        # end without it, hence the median
        assert sensor["p50_ms"] >= 0.2 / p["speed"] * 1e3 * 0.9
        assert sensor["min_ms"] > 0 and sensor["p50_ms"] > lat["p50_ms"]
        # it played at the stamps' pace: no faster than the log at this speed
        assert p["wall_s"] >= p["playback_s"] * 0.95
        assert p["cores_busy"] < 1.0  # the pacing waits, it does not spin
    else:
        assert p["sensor_latency"] is None and p["sensor_latency_missing"] == IMUS * per
        assert p["samples_per_s"] == pytest.approx(IMUS * SECONDS * RATE / p["wall_s"])


def test_both_passes_label_every_window_of_every_imu(run) -> None:
    (res, _), (res2, _) = run
    assert res["benchmark"] == "robots"
    cfg = res["config"]
    assert cfg["imus"] == IMUS and cfg["rate_hz"] == RATE and cfg["topics"] == TOPICS
    assert cfg["window_s"] == 5.0 and cfg["hop_s"] == 2.5 and cfg["threads"] == 1
    assert res["log"]["messages"] == IMUS * SECONDS * RATE and res["log"]["bytes"] > 0
    assert res["realtime"]["speed"] == SPEED and res2["realtime"]["speed"] == 4.0
    _check_pass(res["realtime"], realtime=True)
    _check_pass(res["fast"], realtime=False)
    _check_pass(res2["realtime"], realtime=True)
    env = res["environment"]
    assert "--speed 2" in env["command"] and "--imus 2" in env["command"]
    assert env["load_average_at_start"] is not None and env["load_average_at_end"] is not None
    assert "-core" in res["machine_note"]


def test_the_doc_section_is_written_once_and_replaced_on_rerun(run) -> None:
    (res, page1), (res2, page2) = run
    for res_, page in ((res, page1), (res2, page2)):
        assert page.count(SECTION) == 1 and page.count("## Robots") == 1
        assert robots_markdown(res_) in page
        # inserted before the Jetson section; everything else as it was
        head, rest = PAGE.split("## Jetson")
        assert page.startswith(head + SECTION)
        assert page.endswith("\n\n## Jetson" + rest)
        assert page.replace(robots_markdown(res_) + "\n", "") == PAGE
    assert "--speed 4" in page2 and "--speed 2" not in page2
    table_row = f"| {IMUS} x {RATE:g} Hz | {SECONDS:g} |"
    assert page1.count(table_row) == 2  # one row per pass


def test_update_doc_appends_to_a_page_without_jetson_and_replaces_a_last_section(
        tmp_path: Path, run) -> None:
    (res, _), _ = run
    md = robots_markdown(res)
    doc = tmp_path / "page.md"
    doc.write_text("# Title\n\nText.\n", encoding="utf-8")
    update_doc(doc, md)
    once = doc.read_text(encoding="utf-8")
    assert once == "# Title\n\nText.\n\n" + md
    update_doc(doc, md)
    assert doc.read_text(encoding="utf-8") == once  # idempotent as the last section
    changed = md.replace("Lost events", "Lost windows")
    update_doc(doc, changed)
    assert doc.read_text(encoding="utf-8") == "# Title\n\nText.\n\n" + changed
    fresh = tmp_path / "new" / "page.md"
    update_doc(fresh, md)
    assert fresh.read_text(encoding="utf-8") == md


def test_the_log_holds_each_imu_on_its_own_topic_and_clock(tmp_path: Path) -> None:
    from aura_sdk.ros import read_messages

    assert write_log(tmp_path / "log", 3, 100.0, 1.0, seed=7) == 300
    stamps: dict[str, list[int]] = {}
    for m in read_messages(tmp_path / "log"):
        stamps.setdefault(m.topic, []).append(m.log_time)
    assert sorted(stamps) == ["/imu_0/data", "/imu_1/data", "/imu_2/data"]
    assert all(len(v) == 100 for v in stamps.values())
    assert len({(v[0], v[-1]) for v in stamps.values()}) == 1  # one clock, the same span
