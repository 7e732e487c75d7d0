"""The AURA exception tree.

Every error the SDK raises on purpose derives from :class:`AuraError`; each leaf also derives
from the builtin it resembles, so ``except ValueError`` keeps working for callers who do not
know about AURA. Messages say what went wrong *and* what to do next. Backend exceptions
(onnxruntime, pyserial, bleak, cryptography) are translated at the boundary with
``raise ... from exc``.

::

    AuraError
    ├── ConfigError (ValueError)                 bad argument or configuration
    │   └── SpecMismatchError                    device data cannot feed this model
    ├── NotBuiltError (NotImplementedError)      capability not in this release yet
    ├── MissingExtraError (ImportError)          optional dependency not installed
    ├── PreprocessingError (ValueError)          samples that cannot be preprocessed
    ├── BundleError (ValueError)                 a model bundle is refused
    │   ├── BundleNotFoundError (FileNotFoundError)
    │   ├── BundleFormatError                    malformed manifest / zip / npz
    │   ├── BundleVersionError                   unknown schema version
    │   ├── BundleIntegrityError                 missing file, size or sha256 mismatch
    │   ├── BundleCompatibilityError             ONNX shapes vs manifest vs prototypes
    │   └── BundleSignatureError                 bad signature
    │       └── UntrustedBundleError             valid signature, key not trusted / unsigned
    ├── BackendError (RuntimeError)              inference backend failed
    ├── TransportError (ConnectionError)         a device link failed
    └── BagError (ValueError)                    a robot log (ROS bag, MCAP) cannot be read
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuraError",
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
    "MissingExtraError",
    "NotBuiltError",
    "PreprocessingError",
    "SpecMismatchError",
    "TransportError",
    "UntrustedBundleError",
]


class AuraError(Exception):
    """Root of every error AURA raises on purpose."""


class ConfigError(AuraError, ValueError):
    """An argument or configuration value is invalid."""


class SpecMismatchError(ConfigError):
    """What a device sends cannot be turned into what a model expects."""


class NotBuiltError(AuraError, NotImplementedError):
    """A named capability exists in the design but not yet in this release."""

    def __init__(self, capability: str, detail: str = "") -> None:
        self.capability = capability
        msg = f"{capability} is not built yet in this release of aura-sdk"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class MissingExtraError(AuraError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, extra: str, what: str, missing: str = "") -> None:
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{what} needs the optional dependency {missing or extra!r}: "
            f"install it with  pip install 'aura-sdk[{extra}]'"
        )


class PreprocessingError(AuraError, ValueError):
    """Samples or timestamps that cannot be preprocessed (shape, dtype, NaN, order)."""


class BundleError(AuraError, ValueError):
    """A model bundle was refused. ``path`` names the bundle, ``file`` the member at fault."""

    def __init__(self, message: str, *, path: str | Path | None = None, file: str | None = None):
        self.path = None if path is None else str(path)
        self.file = file
        where = ""
        if self.path is not None:
            where = f"{self.path}" + (f" [{file}]" if file else "")
        elif file:
            where = file
        super().__init__(f"{where}: {message}" if where else message)


class BundleNotFoundError(BundleError, FileNotFoundError):
    """The bundle path does not exist or is not a bundle."""


class BundleFormatError(BundleError):
    """The manifest, the zip container or a data file is malformed."""


class BundleVersionError(BundleError):
    """The manifest's schema version is not one this SDK can read."""


class BundleIntegrityError(BundleError):
    """A file listed in the manifest is missing, or its size or sha256 does not match."""


class BundleCompatibilityError(BundleError):
    """The parts of a bundle disagree (ONNX input/output shapes, prototypes, manifest)."""


class BundleSignatureError(BundleError):
    """The bundle's signature is malformed or does not verify."""


class UntrustedBundleError(BundleSignatureError):
    """The bundle is unsigned, or signed by a key the trust policy does not accept."""


class BackendError(AuraError, RuntimeError):
    """An inference backend failed to load or run a model."""


class TransportError(AuraError, ConnectionError):
    """A device link (serial, BLE, TCP) failed; ``device`` names it."""

    def __init__(self, message: str, *, device: str | None = None) -> None:
        self.device = device
        super().__init__(f"{device}: {message}" if device else message)


class BagError(AuraError, ValueError):
    """A robot log (rosbag2, ROS 1 bag, MCAP file) is unreadable, or broke part way.

    ``path`` names the file; ``messages`` counts the messages read before the fault (they
    were delivered: what came before a broken chunk is not lost)."""

    def __init__(self, message: str, *, path: str | Path, messages: int = 0) -> None:
        self.path = str(path)
        self.reason = message
        self.messages = messages
        super().__init__(f"{self.path}: {message}")
