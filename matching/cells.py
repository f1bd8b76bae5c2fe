"""Cells written for spreadsheets (exports, rejects files): text a spreadsheet shows as text
and never runs as a formula (CSV injection; OWASP ASVS 5.0, 1.2.10)."""

from __future__ import annotations

from typing import Any

# A cell starting with one of these is a formula to a spreadsheet.
DANGEROUS_FIRST = "=+-@"
# Control characters some spreadsheets skip, or treat as the start of a formula.
CONTROL_FIRST = ("\t", "\r", "\n", "\0")
# What a spreadsheet may skip before the first character it reads.
_SKIPPED = " \u00a0" + "".join(CONTROL_FIRST)


def neutralise(value: Any) -> str:
    """The cell's text, with a leading quote if a spreadsheet would otherwise run it: a
    formula character first, or after any run of spaces and control characters, or a control
    character first (after spaces or not)."""
    text = "" if value is None else str(value)
    first = text.lstrip(_SKIPPED)[:1]
    if text.lstrip(" \u00a0").startswith(CONTROL_FIRST) or (first and first in DANGEROUS_FIRST):
        return "'" + text
    return text
