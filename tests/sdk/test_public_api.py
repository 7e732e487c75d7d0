"""Freeze the public surface of aura_sdk (STYLE.md rule 1)."""

import subprocess
import sys

import aura_sdk


def test_fixed_public_names_import() -> None:
    from aura_sdk import LiveRecognizer, SensorSpec, load_bundle  # noqa: F401


def test_exported_members_are_exactly_all() -> None:
    public = {n for n in dir(aura_sdk) if not n.startswith("_")}
    # submodules that python attaches as attributes are not part of the API
    public -= {"bundle", "cli", "preprocessing"}
    assert public == set(aura_sdk.__all__)


def test_device_side_never_imports_torch() -> None:
    code = "import sys, aura_sdk, aura_sdk.cli, aura_bridge; sys.exit(int('torch' in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
