"""`aura data session`: a generated session as a replayable recording with spans."""

import numpy as np
import pytest

from aura_sdk import GRAVITY
from aura_sdk._recording import read_recording
from aura_training.cli_data import DATA_COMMAND, main


def test_session_follows_the_plan_and_replays(tmp_path) -> None:
    out = tmp_path / "s.npz"
    assert main(["session", "--plan", "sitting:8,walking:10", "--out", str(out),
                 "--rate", "25", "--seed", "1"]) == 0
    rec = read_recording(out)
    assert [s.label for s in rec.spans] == ["sitting", "walking"]
    assert rec.nominal_rate_hz() == pytest.approx(25.0, rel=0.02)
    sit = rec.spans[0]
    still = (rec.t >= sit.start_s) & (rec.t < sit.end_s)
    # raw specific force of a seated wrist: about 1 g, little spread
    mag = np.linalg.norm(rec.acc[still], axis=1)
    assert abs(float(np.median(mag)) - GRAVITY) < 1.0
    walk = (rec.t >= rec.spans[1].start_s) & (rec.t < rec.spans[1].end_s)
    assert rec.gyro[walk].std() > 2 * rec.gyro[still].std()


def test_bad_plans_are_refused(tmp_path, capsys) -> None:
    assert main(["session", "--plan", "flying:10", "--out", str(tmp_path / "x.npz")]) == 1
    assert "unknown activity 'flying'" in capsys.readouterr().err
    assert main(["session", "--plan", "walking", "--out", str(tmp_path / "x.npz")]) == 1
    assert "ACTIVITY:SECONDS" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    assert DATA_COMMAND.help
