"""Money in a match's records as reviewers read it: "£5,272.45", not 527245.

Run bundles made since 30 November 2026 give a record's money fields in pounds (their
manifest says ``"money_shown_as": "pounds"``). A bundle made before gives pence, and so do
matches published from one: publish (for such a bundle) and migration 0005 (for the store)
rewrite them here, the one place that knows how, so that the same data never reads as a
changed record and reopens a closed match.
"""

from __future__ import annotations

import re
from typing import Any

PENCE = re.compile(r"-?\d{1,18}")


def as_pounds(pence: int) -> str:
    """123456 -> '£1,234.56' (as the run's SQL writes it)."""
    whole, part = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{whole:,}.{part:02d}"


class MoneyFields:
    """The displayed money fields of each dataset kind, read from its specification once."""

    def __init__(self) -> None:
        self._cache: dict[str, frozenset[str]] = {}

    def of(self, kind: str) -> frozenset[str]:
        if kind not in self._cache:
            from matching.errors import UserError
            from matching.specs import load_spec

            try:
                spec = load_spec(kind)
            except UserError:  # a kind no longer specified: its records are left as they are
                self._cache[kind] = frozenset()
            else:
                self._cache[kind] = frozenset(
                    f.name for f in spec.fields if f.type == "money_pence" and not f.matching_only
                )
        return self._cache[kind]

    def to_pounds(self, kind: str, record: dict[str, Any]) -> bool:
        """Rewrite ``record``'s money fields still in pence as pounds; whether any was."""
        changed = False
        for name in self.of(kind) & record.keys():
            value = record[name]
            if isinstance(value, int) or (isinstance(value, str) and PENCE.fullmatch(value)):
                record[name] = as_pounds(int(value))
                changed = True
        return changed
