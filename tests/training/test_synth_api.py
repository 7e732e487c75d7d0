"""Public surface of aura_training.synth, input validation, and the throughput benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import aura_training.synth as synth
from aura_bench._synth import main, run_synth_bench


def test_exported_members_are_exactly_all() -> None:
    public = {n for n in dir(synth) if not n.startswith("_")}
    assert public == set(synth.__all__)
    for name in (
        "generate_session",
        "generate_clip",
        "simulate_imu",
        "ideal_imu",
        "mirror_clip",
        "activity_names",
        "activity_info",
        "MotionClip",
        "ImuRecording",
    ):
        assert name in synth.__all__


def test_generator_never_imports_torch() -> None:
    code = (
        "import sys, aura_training.synth as s; c = s.generate_clip('walking', 2.0, seed=1); "
        "s.simulate_imu(c, 0); sys.exit(int('torch' in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_bad_inputs_are_rejected_with_a_reason() -> None:
    with pytest.raises(KeyError, match="unknown activity 'flying'"):
        synth.generate_clip("flying", 5.0, seed=0)
    with pytest.raises(ValueError, match=r"at least 0\.5 s"):
        synth.generate_session(0, plan=[("walking", 5.0), ("standing", 0.1)])
    with pytest.raises(ValueError, match="positive"):
        synth.generate_session(0, 10.0, rate_hz=0.0)
    short = synth.generate_clip("standing", 0.5, seed=0)
    with pytest.raises(ValueError, match="too short"):
        synth.simulate_imu(short, 0, rate_hz=10.0)


def test_benchmark_runs_and_reports_hours_per_cpu_minute(tmp_path: Path) -> None:
    res = run_synth_bench(minutes_per_rep=0.3, warmup=0, reps=2, session_s=20.0, wrists=1)
    for stage in ("motion", "imu", "motion+imu"):
        p = res["hours_per_cpu_minute"][stage]
        assert 0 < p["p10"] <= p["p50"] <= p["p90"]
    assert len(res["rows"]) == 2 and res["rows"][0]["hours"] >= 0.3 / 60
    out = tmp_path / "bench.json"
    assert main(["--minutes", "0.2", "--reps", "1", "--wrists", "1", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["benchmark"] == "synth"
