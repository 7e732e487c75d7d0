"""The embedded default loads quietly; other unsigned bundles warn once per path; "require"
still refuses an unsigned default."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_bundle_support import keypair, make_zip

from aura_sdk import UntrustedBundleError, load_bundle
from aura_sdk.bundle import TrustPolicy, read_bundle

DEFAULT = Path(__file__).resolve().parents[2] / "sdk" / "aura_sdk" / "models" / "default.aura"
needs_default = pytest.mark.skipif(not DEFAULT.is_file(),
                                   reason="no embedded default bundle in this build")


def _unsigned_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.levelno >= logging.WARNING and "unsigned" in r.getMessage()]


@needs_default
def test_loading_the_default_twice_logs_and_prints_nothing(
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.WARNING)
    load_bundle()
    load_bundle(DEFAULT)  # the same file named by its path is the embedded default too
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@needs_default
def test_a_fresh_process_loading_the_default_writes_nothing_to_stderr() -> None:
    # no logging configured: Python's last-resort handler would print any WARNING to stderr
    code = "from aura_sdk import load_bundle; load_bundle(); load_bundle()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""


@needs_default
def test_require_still_refuses_the_unsigned_default() -> None:
    _, pub = keypair("quiet-require")
    with pytest.raises(UntrustedBundleError, match="unsigned"):
        load_bundle(trust=TrustPolicy(mode="require", trusted_keys=(pub,)))


@needs_default
def test_a_copy_of_the_default_elsewhere_is_not_embedded(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    copy = tmp_path / "default.aura"
    shutil.copy(DEFAULT, copy)
    caplog.set_level(logging.WARNING)
    load_bundle(copy)
    load_bundle(copy)
    assert len(_unsigned_warnings(caplog)) == 1


def test_an_unsigned_bundle_warns_once_per_path(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    first = make_zip(tmp_path, "first.aura")
    second = make_zip(tmp_path, "second.aura")
    caplog.set_level(logging.WARNING)
    load_bundle(first)
    load_bundle(first)
    read_bundle(first)
    warned = _unsigned_warnings(caplog)
    assert len(warned) == 1 and str(first) in warned[0].getMessage()
    load_bundle(second)
    load_bundle(second)
    warned = _unsigned_warnings(caplog)
    assert len(warned) == 2 and str(second) in warned[1].getMessage()


def test_embedded_is_only_a_matter_of_logging(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    bundle = make_zip(tmp_path, "inside.aura")
    caplog.set_level(logging.DEBUG, logger="aura_sdk.bundle._reader")
    read_bundle(bundle, embedded=True)
    assert _unsigned_warnings(caplog) == []
    assert any("unsigned" in r.getMessage() and r.levelno == logging.DEBUG
               for r in caplog.records)
    _, pub = keypair("quiet-embedded")
    with pytest.raises(UntrustedBundleError):
        read_bundle(bundle, TrustPolicy(mode="require", trusted_keys=(pub,)), embedded=True)
