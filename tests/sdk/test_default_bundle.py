"""The embedded default bundle: loads with no arguments, verifies, refuses a flipped byte."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from aura_sdk import SensorSpec, load_bundle
from aura_sdk.cli import main

MODELS = Path(__file__).resolve().parents[2] / "sdk" / "aura_sdk" / "models"
DEFAULT = MODELS / "default.aura"
SESSION = MODELS / "demo_session.npz"

pytestmark = pytest.mark.skipif(not DEFAULT.is_file(),
                                reason="no embedded default bundle in this build (issue #6)")


def test_default_bundle_loads_and_classifies_a_generated_session() -> None:
    from aura_sdk._recording import read_recording

    m = load_bundle()
    assert m.precision == "fp32" and len(m.labels) >= 40  # "auto": the faster on a CPU
    assert DEFAULT.stat().st_size <= 3 * 1024 * 1024
    rec = read_recording(SESSION)
    span = rec.spans[0]
    sel = (rec.t >= span.start_s) & (rec.t < span.end_s)
    probs = m.classify(rec.imu[sel], SensorSpec(sample_rate_hz=rec.nominal_rate_hz()),
                       t=rec.t[sel])
    assert abs(sum(probs.values()) - 1) < 1e-4
    assert np.isfinite(list(probs.values())).all()


def test_default_bundle_names_the_demo_sessions_activities() -> None:
    """Each scripted activity of the demo session (a virtual watch), classified whole over the
    default label set, gets its own label: the bundle recognises, not merely runs."""
    from aura_sdk._recording import read_recording

    m = load_bundle()
    rec = read_recording(SESSION)
    spec = SensorSpec(sample_rate_hz=rec.nominal_rate_hz(), placement="wrist")
    hits = []
    for span in rec.spans:
        sel = (rec.t >= span.start_s) & (rec.t < span.end_s)
        probs = m.classify(rec.imu[sel], spec, t=rec.t[sel])
        hits.append(next(iter(probs)) == span.label)
    assert len(hits) == 6 and sum(hits) >= 5, list(zip([s.label for s in rec.spans], hits,
                                                        strict=True))


def test_verify_passes_and_a_flipped_byte_fails(tmp_path, capsys) -> None:
    assert main(["bundle", "verify", str(DEFAULT)]) == 0
    bad = tmp_path / "bad.aura"
    shutil.copy(DEFAULT, bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    assert main(["bundle", "verify", str(bad)]) != 0
