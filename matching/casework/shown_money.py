"""Money in a match's records as reviewers read it: "£5,272.45", not 527245.

Run bundles made since 30 November 2026 give a record's money fields in pounds (their
manifest says ``"money_shown_as": "pounds"``). A bundle made before gives pence, and so do
matches published from one: publish (for such a bundle) and migration 0005 (for the store)
rewrite them here, the one place that knows how, so that the same data never reads as a
changed record and reopens a closed match.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

PENCE = re.compile(r"-?\d{1,18}")
# An amount as a person types it: pounds, with or without £, thousands commas (in threes) and
# up to two decimal places. Not "1,50" (a decimal comma, or a typo: £150?) nor "1e3".
POUNDS = re.compile(r"£?(([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?|\.[0-9]{1,2})")


class NotPounds(ValueError):
    """Typed text that is not an amount of money; ``negative`` when it is one below £0."""

    def __init__(self, negative: bool = False) -> None:
        super().__init__("negative" if negative else "not an amount")
        self.negative = negative


def typed_pounds(text: str | None) -> int | None:
    """"£1,234.56" (or "1234.56", "1 234.56") as 123456 pence; None for a blank; NotPounds
    for anything else. The web form and the command line read an amount with this alone."""
    cleaned = re.sub(r"\s", "", text or "")  # spaces between thousands, a non-breaking space pasted in
    if not cleaned:
        return None
    if not POUNDS.fullmatch(cleaned):
        minus = cleaned.startswith(("-", "£-"))  # "-5" or "£-5": below £0, not mistyped
        raise NotPounds(negative=minus and bool(POUNDS.fullmatch(cleaned.replace("-", "", 1))))
    return int(Decimal(cleaned.lstrip("£").replace(",", "")) * 100)


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
