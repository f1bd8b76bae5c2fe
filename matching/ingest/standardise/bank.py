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

from matching.ingest.standardise.sql import bind, literal, unless
from matching.specs import FieldSpec

NOT_SORT_CODE = "not a sort code (6 digits)"
NOT_ACCOUNT = "not an account number (8 digits)"

_MONTHS = "['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']"


def _pad2(e: str) -> str:
    return f"lpad({e}, 2, '0')"


def _from_date(s: str) -> str:
    """A sort code a spreadsheet turned into a date, back to its six digits (NULL if not one)."""
    day_first = r"\d{1,2}[/.-]\d{1,2}[/.-](\d{2}|\d{4})"
    iso = r"\d{4}-\d{1,2}-\d{1,2}([ T]00:00(:00)?)?"
    named = r"(?i)\d{1,2}[ -]?[A-Z]{3}[ -]?(\d{2}|\d{4})"

    def part(text: str, n: int) -> str:
        return f"split_part({text}, '/', {n})"

    slashed = f"replace(replace({s}, '.', '/'), '-', '/')"
    iso_date = f"replace(left({s}, 10), '-', '/')"
    spaced = f"regexp_replace(upper({s}), '^(\\d{{1,2}})[ -]?([A-Z]{{3}})[ -]?(\\d+)$', '\\1/\\2/\\3')"
    month = f"NULLIF(list_position({_MONTHS}, {part(spaced, 2)}), 0)::VARCHAR"
    return (
        f"CASE WHEN regexp_full_match({s}, '{day_first}') "
        f"THEN {_pad2(part(slashed, 1))} || {_pad2(part(slashed, 2))} || right({part(slashed, 3)}, 2) "
        f"WHEN regexp_full_match({s}, '{iso}') "
        f"THEN {_pad2(part(iso_date, 3))} || {_pad2(part(iso_date, 2))} || right({part(iso_date, 1)}, 2) "
        f"WHEN regexp_full_match({s}, '{named}') "
        f"THEN {_pad2(part(spaced, 1))} || {_pad2(month)} || right({part(spaced, 3)}, 2) END"
    )


def clean_sort_code(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The sort code as six digits, and why a non-blank one was nulled."""
    other = (
        f"CASE WHEN regexp_full_match({raw}, '\\d{{2}}[ -]?\\d{{2}}[ -]?\\d{{2}}') THEN replace(replace({raw}, '-', ''), ' ', '') "
        f"WHEN regexp_full_match({raw}, '\\d{{5}}') THEN '0' || {raw} "
        f"ELSE {_from_date(raw)} END"
    )
    digits = bind(unless(f"regexp_full_match({raw}, '\\d{{6}}')", raw, other))
    value = f"CASE WHEN regexp_full_match({digits}, '\\d{{6}}') AND {digits} <> '000000' THEN {digits} END"
    return value, literal(NOT_SORT_CODE)


def clean_account_number(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The account number as eight digits, and why a non-blank one was nulled."""
    digits = bind(
        f"CASE WHEN contains({raw}, ' ') OR contains({raw}, '-') THEN replace(replace({raw}, ' ', ''), '-', '') ELSE {raw} END"
    )
    value = f"CASE WHEN regexp_full_match({digits}, '\\d{{6,8}}') THEN lpad({digits}, 8, '0') END"
    return value, literal(NOT_ACCOUNT)
