"""AURA export: ONNX / int8 / TensorRT export, text prototypes and bundle writing."""

__all__: list[str] = []
