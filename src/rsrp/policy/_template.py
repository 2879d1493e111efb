"""Rule message templates: ``{field.path}`` interpolates, ``{{`` and ``}}`` are literal braces."""

from __future__ import annotations

import re

__all__ = ["parse_template"]

_PIECE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}|[{}]")


def parse_template(text: str) -> list[str | tuple[str, ...]]:
    """Literal text and field paths in order. Raises ValueError on a stray or empty brace."""
    out: list[str | tuple[str, ...]] = []
    pos = 0
    for m in _PIECE.finditer(text):
        if m.start() > pos:
            out.append(text[pos : m.start()])
        token = m.group(0)
        if token in ("{{", "}}"):
            out.append(token[0])
        elif m.group(1) is not None:
            out.append(tuple(m.group(1).split(".")))
        else:
            raise ValueError(
                f"stray {token!r} at offset {m.start()}; write {token * 2} for a brace"
            )
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out
