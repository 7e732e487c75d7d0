"""The device registry: names, options, external profiles, and every profile's shape."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import aura_bridge.devices as devices
from aura_bridge._types import DecoderStats, DeviceProfile, ImuSamples
from aura_bridge.devices import (
    DeviceOptionError,
    DeviceSpec,
    UnknownDeviceError,
    UnknownOptionError,
    VendorProfile,
    _registry,
    get_profile,
    make_decoder,
    make_encoder,
    profile_names,
)

VENDOR = ("metawear", "polar-h10", "polar-verity", "text", "thingy52", "witmotion",
          "witmotion-ble")


def test_public_api_is_frozen():
    assert sorted(devices.__all__) == sorted([
        "EXTERNAL_PROFILE_MODULES", "G", "DeviceOptionError", "DeviceSpec",
        "PolarStartResponse", "UnknownDeviceError", "UnknownOptionError", "VendorProfile",
        "get_profile", "get_spec", "make_decoder", "make_encoder", "parse_start_response",
        "profile_names", "register_device",
    ])
    assert devices.G == 9.80665


def test_every_vendor_profile_is_registered():
    names = profile_names()
    assert set(VENDOR) <= set(names) and list(names) == sorted(names)


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownDeviceError) as info:
        make_decoder("witmotoin")
    err = info.value
    assert isinstance(err, ValueError) and err.name == "witmotoin"
    for name in VENDOR:
        assert name in str(err)
    with pytest.raises(ValueError, match="valid names: "):
        get_profile("")
    with pytest.raises(UnknownDeviceError):
        make_encoder("nope")


def test_unknown_option_lists_valid_options():
    with pytest.raises(UnknownOptionError) as info:
        make_decoder("metawear", acc_range=8)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, DeviceOptionError)
    assert err.options == ("acc_range",) and "acc_range_g" in err.valid
    assert "valid options: acc_range_g, gyro_range_dps, imu, pair" in str(err)
    with pytest.raises(UnknownOptionError, match="'thingy52' decoder has no option"):
        make_decoder("thingy52", pair=True)
    with pytest.raises(UnknownOptionError, match="encoder"):
        make_encoder("witmotion", rate=50)


def test_bad_option_value_is_a_value_error():
    with pytest.raises(ValueError, match="acc_range_g"):
        make_decoder("metawear", acc_range_g=5)


def test_profile_defaults_and_overrides():
    h10 = make_encoder("polar-h10")
    verity = make_encoder("polar-verity")
    assert (h10.acc_frame, verity.acc_frame) == ("raw16", "delta")  # type: ignore[attr-defined]
    assert make_decoder("polar-h10").period_ns == 1e9 / 50  # type: ignore[attr-defined]
    assert make_decoder("polar-h10", sample_rate_hz=25).period_ns == 4e7  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", VENDOR)
def test_profile_shape(name):
    p = get_profile(name)
    assert isinstance(p, DeviceProfile) and isinstance(p, VendorProfile)
    assert p.name == name and p.description and p.sources and p.sample_rate_hz > 0
    assert not p.gravity_removed  # every one of these reports raw specific force
    if p.transport == "ble":
        assert p.framing == "packet" and p.service_uuid and p.notify_uuids and p.control_uuid
        assert p.baud_rate is None
    else:
        assert p.framing == "stream" and p.service_uuid is None and p.baud_rate
    assert all(isinstance(c, bytes) and c for c in (*p.start_commands, *p.stop_commands))
    dec = make_decoder(name)
    assert isinstance(dec.stats, DecoderStats)
    assert dec.feed(b"") == []
    x = ImuSamples(acc=np.array([[0.0, 0.0, 9.80665]]), gyro=np.array([[0.1, -0.2, 0.3]]),
                   t=np.array([1.0]))
    out = [s for chunk in make_encoder(name).encode(x) for s in dec.feed(chunk)]
    out += getattr(dec, "flush", list)()
    assert sum(map(len, out)) >= 1


def test_external_profile_module_is_loaded_lazily(monkeypatch):
    class Dummy:
        def __init__(self, *, gain: float = 1.0) -> None:
            self.stats = DecoderStats()
            self.gain = gain

        def feed(self, data: bytes) -> list[ImuSamples]:
            return []

        def encode(self, samples: ImuSamples) -> list[bytes]:
            return [b"x"]

    profile = DeviceProfile(name="aura-test", transport="serial", framing="stream",
                            sample_rate_hz=100.0, gravity_removed=False, has_timestamps=True,
                            description="test")
    module = types.ModuleType("aura_bridge_test_profiles")
    module.DEVICE_SPECS = (DeviceSpec(profile, Dummy, Dummy),)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(_registry, "EXTERNAL_PROFILE_MODULES", (module.__name__,))
    monkeypatch.setattr(_registry, "_external_loaded", False)
    monkeypatch.setattr(_registry, "_SPECS", dict(_registry._SPECS))
    assert "aura-test" in profile_names()
    assert make_decoder("aura-test", gain=2.0).gain == 2.0  # type: ignore[attr-defined]
    with pytest.raises(UnknownOptionError, match="valid options: gain"):
        make_decoder("aura-test", framing="packet")


def test_register_device_refuses_silent_replacement(monkeypatch):
    monkeypatch.setattr(_registry, "_SPECS", dict(_registry._SPECS))
    spec = _registry.get_spec("text")
    other = DeviceSpec(spec.profile, spec.decoder, spec.encoder, decoder_defaults={})
    with pytest.raises(ValueError, match="already registered"):
        devices.register_device(other)
    devices.register_device(other, replace=True)
    assert _registry.get_spec("text") is other


def test_aura_protocol_profiles_are_registered():
    from aura_bridge.aura import AURA_BLE_PROFILE, AURA_SERIAL_PROFILE, AuraHello

    assert get_profile("aura") is AURA_SERIAL_PROFILE
    assert get_profile("aura-ble") is AURA_BLE_PROFILE
    hello = AuraHello.for_ranges(7, 100.0, 8, 1000)
    x = ImuSamples(acc=np.array([[0.0, 0.0, 9.80665]] * 20), gyro=np.zeros((20, 3)))
    for name in ("aura", "aura-ble"):
        enc = make_encoder(name, hello=hello)
        dec = make_decoder(name)
        out = [s for c in [enc.hello_bytes(), *enc.encode(x)]  # type: ignore[attr-defined]
               for s in dec.feed(c)]
        acc = np.concatenate([s.acc for s in out])
        assert acc.shape == (20, 3) and np.abs(acc[:, 2] - 9.80665).max() < 8 * 9.80665 / 32768
    from aura_bridge.devices._aura_adapter import DEFAULT_HELLO

    enc = make_encoder("aura")  # a virtual AURA device announces DEFAULT_HELLO
    assert enc.hello == DEFAULT_HELLO and DEFAULT_HELLO.accel_range_g == 16  # type: ignore


def test_missing_required_option_is_reported(monkeypatch):
    class NeedsGain:
        def __init__(self, gain: float, *, offset: float = 0.0) -> None:
            self.stats = DecoderStats()

        def feed(self, data: bytes) -> list[ImuSamples]:
            return []

        def encode(self, samples: ImuSamples) -> list[bytes]:
            return []

    base = get_profile("text")
    profile = DeviceProfile(name="needs-gain", transport="serial", framing="stream",
                            sample_rate_hz=1.0, gravity_removed=False, has_timestamps=False,
                            description=base.description)
    monkeypatch.setattr(_registry, "_SPECS", dict(_registry._SPECS))
    devices.register_device(DeviceSpec(profile, NeedsGain, NeedsGain))
    with pytest.raises(DeviceOptionError, match=r"'needs-gain' decoder needs option\(s\) gain"):
        make_decoder("needs-gain")
    assert isinstance(make_decoder("needs-gain", gain=2.0), NeedsGain)


def test_top_level_exports():
    import aura_bridge

    for name in ("get_profile", "make_decoder", "make_encoder", "profile_names",
                 "UnknownDeviceError", "UnknownOptionError", "DeviceOptionError"):
        assert name in aura_bridge.__all__ and getattr(aura_bridge, name) is getattr(devices, name)
