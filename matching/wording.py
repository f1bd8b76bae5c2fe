"""Counts as people write them: "1 match", "2 matches", "12,500 rows"."""

from __future__ import annotations

from typing import Any


def plural(n: Any, one: str, many: str | None = None) -> str:
    """``n`` with ``one`` or ``many`` (default ``one`` + "s"), thousands separated."""
    word = one if n == 1 else (many or one + "s")
    return f"{n:,} {word}" if isinstance(n, int) else f"{n} {word}"
