"""AURA export: ONNX / int8 / TensorRT export, text prototypes and bundle writing.

So far: a tiny untrained demonstration encoder and the bundle around it (``_toy``), used to
show and test the bundle format. ``python -m aura_export.example OUT.aura`` writes one.
"""

from ._toy import (
    TOY_LABELS,
    TOY_PROMPTS,
    toy_embed,
    toy_encoder_onnx,
    toy_windows,
    write_example_bundle,
)

__all__ = [
    "TOY_LABELS",
    "TOY_PROMPTS",
    "toy_embed",
    "toy_encoder_onnx",
    "toy_windows",
    "write_example_bundle",
]
