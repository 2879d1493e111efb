"""rsrp: a zero-trust runtime that makes every access decision provable.

identity → policy → decision → signed proof → tamper-evident ledger → offline
verification. See docs/ and DESIGN.md for the architecture.
"""

from __future__ import annotations

__all__ = ["RUNTIME_VERSION", "__version__"]

__version__ = "0.1.0"

#: (major, minor, patch) written into every decision envelope.
RUNTIME_VERSION: tuple[int, int, int] = (0, 1, 0)
