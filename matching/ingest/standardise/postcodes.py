"""Postcodes: 'sw1a1aa' -> 'SW1A 1AA', with its outward, inward, sector, district and area.

Any spacing and case is accepted. The inward code is always a digit and two letters, so
the last three characters are the inward code and the rest the outward code. Where the
inward digit was typed as the letter O or I (a common keying slip: 'KT1 OAA'), it is read
as 0 or 1; nothing else is guessed.

Validity follows the Royal Mail rules: outward A9, A99, AA9, AA99, A9A or AA9A with the
letters each position allows (no Q, V, X first; no I, J, Z second), inward 9AA without
C, I, K, M, O or V; and the special GIR 0AA.

Defects: 'incomplete postcode (outward code only)' for 'SW1A', else 'not a valid postcode'.

Derived columns, for a field ``postcode``: ``postcode_outward`` ('SW1A'), ``postcode_inward``
('1AA'), ``postcode_sector`` ('SW1A 1'), ``postcode_district`` (the outward code, 'SW1A')
and ``postcode_area`` (its leading letters, 'SW').
"""

from __future__ import annotations

from matching.ingest.standardise.sql import bind, first_defect
from matching.specs import FieldSpec

INCOMPLETE = "incomplete postcode (outward code only)"
NOT_VALID = "not a valid postcode"

_FIRST, _SECOND = "[A-PR-UWYZ]", "[A-HK-Y]"
_OUTWARD = (
    f"{_FIRST}\\d\\d?|{_FIRST}{_SECOND}\\d\\d?|{_FIRST}\\d[A-HJKPSTUW]|{_FIRST}{_SECOND}\\d[ABEHMNPRVWXY]"
)
_INWARD = "\\d[ABD-HJLNP-UW-Z]{2}"
_POSTCODE = f"(?:{_OUTWARD}){_INWARD}|GIR0AA"

DERIVED = ("outward", "inward", "sector", "district", "area")


def _compact(raw: str) -> str:
    spaceless = bind(f"replace(upper({raw}), ' ', '')")
    return bind(
        f"CASE WHEN regexp_matches({spaceless}, '[^A-Z0-9]') THEN regexp_replace({spaceless}, '[^A-Z0-9]', '', 'g') ELSE {spaceless} END"
    )


def _fix_inward_digit(s: str) -> str:
    position = f"length({s}) - 2"
    fixed = f"left({s}, {position} - 1) || CASE substr({s}, {position}, 1) WHEN 'O' THEN '0' ELSE '1' END || right({s}, 2)"
    return bind(f"CASE WHEN length({s}) >= 5 AND substr({s}, {position}, 1) IN ('O', 'I') THEN {fixed} ELSE {s} END")


def clean_postcode(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The postcode as 'AA9A 9AA', and why a non-blank one was nulled."""
    s = _fix_inward_digit(_compact(raw))
    value = f"CASE WHEN regexp_full_match({s}, '{_POSTCODE}') THEN left({s}, length({s}) - 3) || ' ' || right({s}, 3) END"
    defect = first_defect([(f"regexp_full_match({_compact(raw)}, '{_OUTWARD}')", INCOMPLETE), ("true", NOT_VALID)])
    return value, defect


def postcode_columns(field: FieldSpec, value: str) -> list[tuple[str, str]]:
    """The derived parts of a standardised postcode (``value`` is its SQL)."""
    outward = bind(f"split_part({value}, ' ', 1)")
    inward = f"split_part({value}, ' ', 2)"
    parts = {
        "outward": outward,
        "inward": inward,
        "sector": f"{outward} || ' ' || left({inward}, 1)",
        "district": outward,
        "area": f"CASE WHEN substr({outward}, 2, 1) BETWEEN 'A' AND 'Z' THEN left({outward}, 2) ELSE left({outward}, 1) END",
    }
    return [(f"{field.name}_{part}", f"CASE WHEN {value} IS NOT NULL THEN {parts[part]} END") for part in DERIVED]
