"""Errors the exporter raises on purpose (leaves of the SDK's :class:`~aura_sdk.AuraError` tree).

::

    AuraError
    └── ExportError (RuntimeError)        an artefact could not be produced as promised
        └── ParityError                   an exported graph disagrees with its reference
"""

from __future__ import annotations

from aura_sdk import AuraError

__all__ = ["ExportError", "ParityError"]


class ExportError(AuraError, RuntimeError):
    """The exporter could not produce a valid artefact (ONNX graph, quantised model, bundle)."""


class ParityError(ExportError):
    """An exported graph disagrees with its reference beyond the stated tolerance.

    Attributes:
        precision: which encoder failed (``"fp32"``, ``"int8"``, ``"fp16"``).
        measure: what was measured (``"max_abs"``, ``"mean_cosine"``, ...).
        value: the measured value.
        tolerance: the bound it violated.
    """

    def __init__(self, message: str, *, precision: str, measure: str, value: float,
                 tolerance: float) -> None:
        self.precision = precision
        self.measure = measure
        self.value = value
        self.tolerance = tolerance
        super().__init__(message)
