"""Bank details: sort codes as 'NNNNNN' and account numbers as 8 digits.

Sort codes. '12-34-56', '12 34 56' and '123456' are the same sort code. Spreadsheets damage
them in two ways, both repaired:

- a sort code typed '12-03-56' is taken for a date and comes back as '12/03/1956',
  '1956-03-12' (with or without a time) or '12-Mar-56'. Any date-shaped value is read back as
  day, month and the last two digits of the year: 12, 03, 56 -> '120356'. Only pairs that
  were a valid day and month can have been turned into a date, so the rule is safe.
- a sort code starting with 0 (04-00-04) stored as a number loses its leading zero:
  5 digits are padded back to 6.

Account numbers: 8 digits, leading zeros kept. Older 6- and 7-digit account numbers are
padded with leading zeros to 8, as the banks themselves do for payments; anything else
(fewer than 6 or more than 8 digits, letters) is a defect.
"""

from __future__ import annotations

from matching.ingest.standardise.sql import first_defect, let
from matching.specs import FieldSpec

NOT_SORT_CODE = "not a sort code (6 digits)"
NOT_ACCOUNT = "not an account number (8 digits)"

_MONTHS = "['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']"


def _pad2(e: str) -> str:
    return f"lpad({e}, 2, '0')"


def _from_date(s: str) -> str:
    """A sort code a spreadsheet turned into a date, back to its six digits (NULL if not one)."""
    day_first = f"regexp_extract({s}, '^(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-](\\d{{2}}|\\d{{4}})$', ['d', 'm', 'y'])"
    iso = f"regexp_extract({s}, '^(\\d{{4}})-(\\d{{1,2}})-(\\d{{1,2}})(?:[ T]00:00(?::00)?)?$', ['y', 'm', 'd'])"
    named = f"regexp_extract(upper({s}), '^(\\d{{1,2}})[ -]?([A-Z]{{3}})[ -]?(\\d{{2}}|\\d{{4}})$', ['d', 'm', 'y'])"

    def digits(parts: str, month: str) -> str:
        return f"CASE WHEN {parts}.d <> '' THEN {_pad2(f'{parts}.d')} || {_pad2(month)} || right({parts}.y, 2) END"

    return (
        f"coalesce({let(day_first, lambda p: digits(p, f'{p}.m'))}, "
        f"{let(iso, lambda p: digits(p, f'{p}.m'))}, "
        f"{let(named, lambda p: digits(p, f'NULLIF(list_position({_MONTHS}, {p}.m), 0)::VARCHAR'))})"
    )


def clean_sort_code(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The sort code as six digits, and why a non-blank one was nulled."""

    def value(s: str) -> str:
        return (
            f"CASE WHEN regexp_full_match({s}, '\\d{{6}}') THEN {s} "
            f"WHEN regexp_full_match({s}, '\\d{{2}}[ -]?\\d{{2}}[ -]?\\d{{2}}') THEN regexp_replace({s}, '[ -]', '', 'g') "
            f"WHEN regexp_full_match({s}, '\\d{{5}}') THEN '0' || {s} "
            f"ELSE {_from_date(s)} END"
        )

    checked = let(raw, value)
    return (
        let(checked, lambda v: f"CASE WHEN regexp_full_match({v}, '\\d{{6}}') AND {v} <> '000000' THEN {v} END"),
        first_defect([("true", NOT_SORT_CODE)]),
    )


def clean_account_number(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The account number as eight digits, and why a non-blank one was nulled."""

    def value(s: str) -> str:
        digits = f"CASE WHEN regexp_matches({s}, '[ -]') THEN regexp_replace({s}, '[ -]', '', 'g') ELSE {s} END"
        return let(digits, lambda d: f"CASE WHEN regexp_full_match({d}, '\\d{{6,8}}') THEN lpad({d}, 8, '0') END")

    return let(raw, value), first_defect([("true", NOT_ACCOUNT)])
