"""`aura demo` and `aura live` end to end (toy bundle; the real default bundle is issue #6)."""

import json

import pytest
from live_support import session

from aura_export import write_example_bundle
from aura_sdk._recording import write_recording
from aura_sdk.cli import main

# the toy encoder's prototypes are too close for the bundle's unknown margin (see the live tests)
TOY = ["--unknown-margin", "0.001", "--smoothing", "none"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    write_example_bundle(d / "toy.aura", window_samples=100, sample_rate_hz=50.0,
                         embedding_dim=32)
    write_recording(d / "session.npz", session(["still", "walking", "running", "waving"], 6.0))
    return d


def test_demo_plays_a_session_over_a_pty_and_scores_it(files, capsys) -> None:
    rc = main(["demo", "--bundle", str(files / "toy.aura"), "--recording",
               str(files / "session.npz"), "--speed", "4", *TOY])
    assert rc == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith("accuracy ")
    acc = float(last.split()[1])
    assert acc > 0.75, out
    assert "latency p50" in last and "corrupt 0" in last


def test_demo_without_a_default_bundle_says_what_to_pass(capsys, monkeypatch) -> None:
    # this checkout embeds one; a build without it looks for a file that is not there
    import aura_sdk._model

    monkeypatch.setattr(aura_sdk._model, "DEFAULT_BUNDLE_NAME", "absent.aura")
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "embeds no default bundle" in err


def test_live_replay_prints_json_lines(files, capsys) -> None:
    rc = main(["live", "--replay", str(files / "session.npz"), "--bundle",
               str(files / "toy.aura"), "--json", "--fast", *TOY])
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 23 and all(x["kind"] == "label" for x in lines)  # 24 s, 2 s, hop 1 s
    assert lines[0]["label"] == "still" and lines[-1]["label"] == "waving"


def test_live_rejects_a_bad_tcp_address(files, capsys) -> None:
    assert main(["live", "--tcp", "nohostport", "--bundle", str(files / "toy.aura")]) == 1
    assert "HOST:PORT" in capsys.readouterr().err


def test_live_takes_an_upright_and_refuses_a_bad_one(files, capsys) -> None:
    # the toy encoder has no placement input: a said upright changes nothing it reads
    rc = main(["live", "--replay", str(files / "session.npz"), "--bundle",
               str(files / "toy.aura"), "--json", "--fast", "--placement", "waist",
               "--upright", "0.1,-0.2,1", *TOY])
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 23 and lines[-1]["label"] == "waving"
    assert main(["live", "--replay", str(files / "session.npz"), "--bundle",
                 str(files / "toy.aura"), "--upright", "auto"]) == 1
    assert "needs placement" in capsys.readouterr().err
    assert main(["live", "--replay", str(files / "session.npz"), "--upright", "up"]) == 2
    assert "three numbers" in capsys.readouterr().err
