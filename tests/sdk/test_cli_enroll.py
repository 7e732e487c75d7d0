"""`aura enroll`: add from recordings (whole, --start/--end, --spans), record from a live device
over TCP, list, remove, export and import."""

import asyncio
import json
import threading

import numpy as np
import pytest
from live_support import session

from aura_export import write_example_bundle
from aura_sdk import load_bundle
from aura_sdk._recording import LabelSpan, write_labels, write_recording
from aura_sdk.cli import main
from aura_sdk.sim import VirtualDevice, serve_tcp


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("enroll")
    write_example_bundle(d / "toy.aura", window_samples=100, sample_rate_hz=50.0,
                         embedding_dim=32)
    write_recording(d / "run.csv", session(["running"], 6.0, seed=3))
    write_recording(d / "mixed.csv", session(["still", "waving"], 6.0, seed=4))
    write_labels(d / "mixed.labels.csv", [LabelSpan(0.0, 6.0, "resting"),
                                          LabelSpan(6.0, 12.0, "hello wave")])
    return d


def test_add_list_remove_export_import(files, tmp_path, capsys, monkeypatch) -> None:
    b = ["--bundle", str(files / "toy.aura")]
    assert main(["enroll", *b, "add", "sprint", "--csv", str(files / "run.csv"),
                 "--start", "0", "--end", "4"]) == 0
    assert main(["enroll", *b, "add", "--csv", str(files / "mixed.csv"),
                 "--spans", str(files / "mixed.labels.csv")]) == 0
    capsys.readouterr()
    assert main(["enroll", *b, "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["label"] for r in rows] == ["sprint", "resting", "hello wave"]
    assert [r["examples"] for r in rows] == [1, 1, 1]
    # 4 s of a 2-s window model at a 1-s enrollment hop: windows at 0, 1, 2 s
    assert rows[0]["windows"] == 3
    model = load_bundle(str(files / "toy.aura"))
    assert model.enrolled_labels == ("sprint", "resting", "hello wave")
    x = session(["waving"], 4.0, seed=11)
    probs = model.classify(np.hstack([x.acc, x.gyro]), _spec(), labels=list(
        model.enrolled_labels))
    assert next(iter(probs)) == "hello wave"

    out = tmp_path / "mine.zip"
    assert main(["enroll", *b, "export", str(out), "--labels", "sprint,resting"]) == 0
    assert main(["enroll", *b, "remove", "sprint", "resting"]) == 0
    assert load_bundle(str(files / "toy.aura")).enrolled_labels == ("hello wave",)
    assert main(["enroll", *b, "import", str(out)]) == 0
    # enrollment order survives the trip: the export keeps when each label was enrolled
    assert load_bundle(str(files / "toy.aura")).enrolled_labels == (
        "sprint", "resting", "hello wave")
    assert main(["enroll", *b, "remove", "nothing"]) == 1
    assert "not an enrolled label" in capsys.readouterr().err
    assert main(["enroll", *b, "add", "--csv", str(files / "run.csv")]) == 1
    assert "name the label" in capsys.readouterr().err


def _spec():
    from aura_sdk import SensorSpec

    return SensorSpec(sample_rate_hz=50.0)


def test_record_from_a_live_device_over_tcp(files, tmp_path, capsys) -> None:
    rec = session(["running"], 30.0, seed=8)
    device = VirtualDevice("aura", rec, loop=True)
    port: list[int] = []
    ready = threading.Event()

    def got(p: int) -> None:
        port.append(p)
        ready.set()

    # the server ends by itself once both recording clients have come and gone
    th = threading.Thread(target=asyncio.run, daemon=True, args=(
        serve_tcp(device, realtime=True, speed=4.0, ready=got, max_clients=2),))
    th.start()
    assert ready.wait(10)
    b = ["--bundle", str(files / "toy.aura")]
    code = main(["enroll", *b, "record", "jog", "--tcp", f"127.0.0.1:{port[0]}",
                 "--seconds", "3", "--examples", "2", "--pause", "0",
                 "--save", str(tmp_path)])
    th.join(10)
    assert not th.is_alive()
    assert code == 0, capsys.readouterr().err
    saved = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert saved == ["jog-1.csv", "jog-2.csv"]
    m = load_bundle(str(files / "toy.aura"))
    assert "jog" in m.enrolled_labels
    summary = {r["label"]: r for r in m.enrollment_summary()}
    assert summary["jog"]["examples"] == 2
