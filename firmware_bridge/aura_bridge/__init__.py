"""AURA firmware bridge: wire protocols of the AURA stream and of real vendor IMUs.

Parsers here never do I/O (STYLE.md): bytes in, frames and samples out. Imports numpy only.
"""

__all__: list[str] = []
