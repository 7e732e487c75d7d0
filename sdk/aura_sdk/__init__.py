"""AURA SDK: zero-shot activity recognition from a wrist or robot IMU, on the device.

The device side: it never imports torch. See DESIGN.md for the contracts.
"""

from ._errors import (
    AuraError,
    BackendError,
    BagError,
    BundleCompatibilityError,
    BundleError,
    BundleFormatError,
    BundleIntegrityError,
    BundleNotFoundError,
    BundleSignatureError,
    BundleVersionError,
    ConfigError,
    MissingExtraError,
    NotBuiltError,
    PreprocessingError,
    SpecMismatchError,
    TransportError,
    UntrustedBundleError,
)
from ._model import AuraModel, load_bundle
from ._spec import CHANNELS, GRAVITY, ModelInputSpec, SensorSpec
from .live import LabelEvent, LiveRecognizer, StatusEvent

__all__ = [
    "CHANNELS",
    "GRAVITY",
    "AuraError",
    "AuraModel",
    "BackendError",
    "BagError",
    "BundleCompatibilityError",
    "BundleError",
    "BundleFormatError",
    "BundleIntegrityError",
    "BundleNotFoundError",
    "BundleSignatureError",
    "BundleVersionError",
    "ConfigError",
    "LabelEvent",
    "LiveRecognizer",
    "MissingExtraError",
    "ModelInputSpec",
    "NotBuiltError",
    "PreprocessingError",
    "SensorSpec",
    "SpecMismatchError",
    "StatusEvent",
    "TransportError",
    "UntrustedBundleError",
    "load_bundle",
]
