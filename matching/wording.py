"""Counts as people write them: "1 match", "2 matches", "12,500 rows"."""

from __future__ import annotations

from typing import Any


def plural(n: Any, one: str, many: str | None = None) -> str:
    """``n`` with ``one`` or ``many`` (default ``one`` + "s"), thousands separated."""
    word = one if n == 1 else (many or one + "s")
    return f"{n:,} {word}" if isinstance(n, int) else f"{n} {word}"


def did_you_mean(typed: str, known: Any) -> str:
    """" Did you mean 'kingston'?" for the known name nearest what was typed, or "" for none near."""
    import difflib

    close = difflib.get_close_matches(typed, list(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""
