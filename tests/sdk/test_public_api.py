"""Freeze the public surface of aura_sdk (STYLE.md rule 1; httpx's test_exported_members)."""

import subprocess
import sys
import types

import aura_sdk

EXPECTED = {
    "CHANNELS", "GRAVITY", "AuraError", "AuraModel", "BackendError", "BagError",
    "BundleCompatibilityError",
    "BundleError", "BundleFormatError", "BundleIntegrityError", "BundleNotFoundError",
    "BundleSignatureError", "BundleVersionError", "ConfigError", "LiveRecognizer",
    "MissingExtraError", "ModelInputSpec", "NotBuiltError", "PreprocessingError", "SensorSpec",
    "SpecMismatchError", "TransportError", "UntrustedBundleError", "load_bundle", "LabelEvent",
    "StatusEvent",
}


def test_fixed_public_names_import() -> None:
    from aura_sdk import LiveRecognizer, SensorSpec, load_bundle  # noqa: F401


def test_exported_members_are_exactly_the_frozen_set() -> None:
    assert set(aura_sdk.__all__) == EXPECTED
    for name in aura_sdk.__all__:
        assert hasattr(aura_sdk, name), name
    # nothing public leaks besides __all__ and subpackages python attaches on import
    public = {n for n in dir(aura_sdk) if not n.startswith("_")
              and not isinstance(getattr(aura_sdk, n), types.ModuleType)}
    assert public == EXPECTED


def test_device_side_never_imports_torch() -> None:
    code = ("import sys, aura_sdk, aura_sdk.cli, aura_sdk.bundle, aura_sdk.preprocessing, "
            "aura_sdk.sim, aura_bridge, aura_bridge.devices; "
            "sys.exit(int('torch' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
