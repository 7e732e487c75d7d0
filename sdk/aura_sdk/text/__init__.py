"""On-device text encoder (``text`` extra): free-text labels without torch."""

from ._encoder import DEFAULT_TEMPLATES, TextEncoder, label_prototype, package_tokenizer_path

__all__ = ["DEFAULT_TEMPLATES", "TextEncoder", "label_prototype", "package_tokenizer_path"]
