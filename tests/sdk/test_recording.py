"""Recording files: CSV / NPZ round trips, malformed rows, label spans, parser fuzzing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_sdk import ConfigError
from aura_sdk._recording import (
    LabelSpan,
    Recording,
    format_csv,
    parse_csv,
    read_labels,
    read_recording,
    write_labels,
    write_recording,
)


def _rec(n: int = 50, seed: int = 0) -> Recording:
    rng = np.random.default_rng(seed)
    gyro = rng.normal(size=(n, 3))
    gyro[::7] = np.nan  # a device that sometimes sends no gyro
    return Recording(t=np.arange(n) / 50.0 + 12.5, acc=rng.normal(size=(n, 3)) * 9.8, gyro=gyro,
                     spans=(LabelSpan(12.5, 13.0, "walking"), LabelSpan(13.0, 13.5, "still")))


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_round_trip_is_exact(tmp_path, suffix) -> None:
    rec = _rec()
    write_recording(tmp_path / f"r{suffix}", rec)
    back = read_recording(tmp_path / f"r{suffix}")
    np.testing.assert_array_equal(back.t, rec.t)
    np.testing.assert_array_equal(back.acc, rec.acc)
    np.testing.assert_array_equal(back.gyro, rec.gyro)  # NaN where absent, both ways
    assert back.spans == (rec.spans if suffix == ".npz" else ())


def test_csv_has_empty_fields_for_channels_not_sent() -> None:
    text = format_csv(_rec(8))
    assert text.splitlines()[0] == "t,ax,ay,az,gx,gy,gz"
    assert text.splitlines()[1].endswith(",,,")


def test_malformed_rows_are_dropped_and_counted() -> None:
    text = "t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6\n0.1,1,2\n0.2,x,2,3,4,5,6\n0.3,1,2,3,4,5,inf\n"
    text += "0.4,1,2,3,,,\n"
    rec = parse_csv(text)
    assert len(rec) == 2 and rec.dropped_rows == 3
    assert np.isnan(rec.gyro[1]).all() and rec.acc[1, 2] == 3.0


def test_wrong_header_and_empty_are_refused() -> None:
    with pytest.raises(ConfigError, match="header"):
        parse_csv("time,x,y\n1,2,3\n")
    with pytest.raises(ConfigError, match="no valid sample rows"):
        parse_csv("t,ax,ay,az,gx,gy,gz\nnonsense\n")


def test_npz_without_arrays_is_refused(tmp_path) -> None:
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    with pytest.raises(ConfigError, match="needs arrays t, acc, gyro"):
        read_recording(tmp_path / "bad.npz")


def test_nominal_rate_and_label_lookup() -> None:
    rec = _rec()
    assert rec.nominal_rate_hz() == pytest.approx(50.0)
    assert rec.label_at(12.7) == "walking" and rec.label_at(99.0) is None


def test_labels_round_trip_and_overlap_is_refused(tmp_path) -> None:
    spans = (LabelSpan(0.0, 5.0, "walking"), LabelSpan(5.0, 9.5, "brushing teeth"))
    write_labels(tmp_path / "l.csv", spans)
    assert read_labels(tmp_path / "l.csv") == spans
    (tmp_path / "o.csv").write_text("0,5,a\n4,6,b\n")
    with pytest.raises(ConfigError, match="overlap"):
        read_labels(tmp_path / "o.csv")
    (tmp_path / "m.csv").write_text("0,5,a\n7,six,b\n")
    with pytest.raises(ConfigError, match=r"m\.csv:2"):
        read_labels(tmp_path / "m.csv")


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet="t,axyzg0123456789.-e\nnaif \t", max_size=400))
def test_csv_parser_fuzz_only_raises_config_error(body: str) -> None:
    try:
        rec = parse_csv("t,ax,ay,az,gx,gy,gz\n" + body)
    except ConfigError:
        return
    assert np.isfinite(rec.t).all()
    assert len(rec) + rec.dropped_rows <= body.count("\n") + 1


def test_public_names_are_frozen() -> None:
    # training, export and the benchmarks read and write recordings through these names only
    import aura_sdk.recording as public
    from aura_sdk import _recording

    assert set(public.__all__) == {"CSV_HEADER", "LabelSpan", "Recording", "read_labels",
                                   "read_recording", "write_labels", "write_recording"}
    for name in public.__all__:
        assert getattr(public, name) is getattr(_recording, name), name
