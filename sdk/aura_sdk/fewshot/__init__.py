"""Few-shot enrollment on the device: features that keep motion detail, a small head fitted
with numpy/scipy, and the store of enrolled examples.
"""

from ._head import LogisticHead

__all__ = ["LogisticHead"]
