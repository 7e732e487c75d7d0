"""Device registry: profiles, decoders and encoders selected by name.

The built-in vendor devices register themselves from their modules. Two more ways in, both
documented in :mod:`aura_bridge.devices`:

* the modules named in :data:`EXTERNAL_PROFILE_MODULES` (the adapter
  ``aura_bridge.devices._aura_adapter`` that maps :mod:`aura_bridge.aura`), each defining
  ``DEVICE_SPECS``, an iterable of :class:`DeviceSpec`; they are imported lazily, the first
  time the registry is asked for anything, so there is no import cycle;
* a call to :func:`register_device` from anywhere.

Unknown names and unknown options are rejected (STYLE.md rule 2), never ignored.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._types import Decoder, DeviceProfile, Encoder
from ._common import DeviceOptionError

__all__ = [
    "EXTERNAL_PROFILE_MODULES",
    "DeviceSpec",
    "UnknownDeviceError",
    "UnknownOptionError",
    "get_profile",
    "get_spec",
    "make_decoder",
    "make_encoder",
    "profile_names",
    "register_device",
]

#: Modules imported on first use of the registry, in order; each defines ``DEVICE_SPECS``
#: (a later module's spec replaces an earlier one of the same name). The adapter registers
#: the AURA protocol's "aura" / "aura-ble" from :mod:`aura_bridge.aura`.
EXTERNAL_PROFILE_MODULES: tuple[str, ...] = ("aura_bridge.devices._aura_adapter",)


class UnknownDeviceError(ValueError):
    """No device profile has this name; the message lists the valid names.

    Attributes:
        name: the name asked for.
        valid: every registered name, sorted.
    """

    def __init__(self, name: str, valid: Iterable[str]) -> None:
        self.name = name
        self.valid = tuple(sorted(valid))
        super().__init__(
            f"unknown device profile {name!r}; valid names: {', '.join(self.valid)}. "
            "Pass one of these names (e.g. --device witmotion)."
        )


class UnknownOptionError(DeviceOptionError):
    """A decoder or encoder was given an option it does not have.

    Attributes:
        device: the profile name.
        role: ``"decoder"`` or ``"encoder"``.
        options: the rejected option names.
        valid: the option names this factory accepts.
    """

    def __init__(self, device: str, role: str, options: Iterable[str], valid: Iterable[str]):
        self.device = device
        self.role = role
        self.options = tuple(sorted(options))
        self.valid = tuple(sorted(valid))
        accepted = ", ".join(self.valid) if self.valid else "none"
        super().__init__(
            f"{device!r} {role} has no option(s) {', '.join(map(repr, self.options))}; "
            f"valid options: {accepted}."
        )


@dataclass(frozen=True)
class DeviceSpec:
    """One registered device: its profile and how to build its decoder and encoder.

    Attributes:
        profile: the :class:`DeviceProfile`; its ``name`` is the registry key.
        decoder: factory taking keyword-only options, returning a :class:`Decoder`.
        encoder: factory taking keyword-only options, returning an :class:`Encoder`.
        decoder_defaults: options passed to ``decoder`` unless the caller overrides them
            (lets two profiles share one decoder class with different settings).
        encoder_defaults: the same for ``encoder``.
    """

    profile: DeviceProfile
    decoder: Callable[..., Decoder]
    encoder: Callable[..., Encoder]
    decoder_defaults: Mapping[str, Any] | None = None
    encoder_defaults: Mapping[str, Any] | None = None

    @property
    def name(self) -> str:
        """The registry key: ``profile.name``."""
        return self.profile.name


_SPECS: dict[str, DeviceSpec] = {}
_external_loaded = False


def register_device(spec: DeviceSpec, *, replace: bool = False) -> None:
    """Add a device to the registry.

    Args:
        spec: the device.
        replace: allow replacing a spec of the same name.

    Raises:
        ValueError: a device of that name is already registered and ``replace`` is False.
    """
    if spec.name in _SPECS and not replace and _SPECS[spec.name] is not spec:
        raise ValueError(f"device profile {spec.name!r} is already registered")
    _SPECS[spec.name] = spec


def _load_external() -> None:
    global _external_loaded
    if _external_loaded:
        return
    _external_loaded = True
    for module_name in EXTERNAL_PROFILE_MODULES:
        module = importlib.import_module(module_name)
        for spec in getattr(module, "DEVICE_SPECS", ()):
            register_device(spec, replace=True)


def profile_names() -> tuple[str, ...]:
    """Every registered device profile name, sorted."""
    _load_external()
    return tuple(sorted(_SPECS))


def get_spec(name: str) -> DeviceSpec:
    """The registered :class:`DeviceSpec` called ``name``.

    Raises:
        UnknownDeviceError: no such profile; the message lists the valid names.
    """
    _load_external()
    try:
        return _SPECS[name]
    except KeyError:
        raise UnknownDeviceError(name, _SPECS) from None


def get_profile(name: str) -> DeviceProfile:
    """The :class:`DeviceProfile` called ``name``.

    Raises:
        UnknownDeviceError: no such profile; the message lists the valid names.
    """
    return get_spec(name).profile


def _signature(factory: Callable[..., Any]) -> tuple[set[str], set[str], bool]:
    """(accepted option names, required option names, accepts any keyword)."""
    params = inspect.signature(factory).parameters.values()
    named = [p for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = {p.name for p in named if p.default is p.empty}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    return {p.name for p in named}, required, takes_any


def _build(name: str, role: str, options: Mapping[str, Any]) -> Any:
    spec = get_spec(name)
    factory = spec.decoder if role == "decoder" else spec.encoder
    merged = {**((spec.decoder_defaults if role == "decoder" else spec.encoder_defaults) or {}),
              **options}
    accepted, required, takes_any = _signature(factory)
    unknown = set(options) - accepted
    if unknown and not takes_any:
        raise UnknownOptionError(name, role, unknown, accepted)
    missing = sorted(required - set(merged))
    if missing:
        raise DeviceOptionError(f"{name!r} {role} needs option(s) {', '.join(missing)}; "
                                f"valid options: {', '.join(sorted(accepted))}.")
    return factory(**merged)


def make_decoder(name: str, **options: Any) -> Decoder:
    """A fresh decoder for device ``name``.

    Args:
        name: a profile name from :func:`profile_names`.
        **options: decoder options (see the device module's decoder class).

    Raises:
        UnknownDeviceError: no such profile.
        UnknownOptionError: an option the decoder does not have.
        DeviceOptionError: an option value the device does not support, or a required
            option is missing.
    """
    decoder: Decoder = _build(name, "decoder", options)
    return decoder


def make_encoder(name: str, **options: Any) -> Encoder:
    """A fresh encoder (SI samples -> wire bytes) for device ``name``.

    Args:
        name: a profile name from :func:`profile_names`.
        **options: encoder options (see the device module's encoder class).

    Raises:
        UnknownDeviceError: no such profile.
        UnknownOptionError: an option the encoder does not have.
        DeviceOptionError: an option value the device does not support, or a required
            option is missing.
    """
    encoder: Encoder = _build(name, "encoder", options)
    return encoder
