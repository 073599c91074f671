"""Text for messages."""

from __future__ import annotations


def shorten(text: str, limit: int = 80) -> str:
    """``text`` for a message: at most ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
