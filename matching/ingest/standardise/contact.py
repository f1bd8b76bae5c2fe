"""Contact details: email addresses and UK phone numbers.

Email: lower case; valid when it has exactly one @, no spaces, and a domain with a dot
that neither starts nor ends it ('a@b.co.uk'). Nothing more is checked: the address is
compared, never sent to. Defect: 'not a valid email address'.

Phone: UK numbers in national form, '0' and 10 digits ('07700900123'), from any of
'+44 7700 900123', '0044 7700 900123', '+44 (0)20 7946 0000', '020-7946-0000',
'(020) 7946 0000', '447700900123'. An extension ('x123', 'ext. 123') is dropped. A 10-digit
number starting 7 is a mobile that lost its leading zero in a spreadsheet and gets it back.
10-digit national numbers exist only for a few 01 areas and 0800: those are kept as they are.
Defects: 'not a UK phone number' (another country's code), else 'not a valid phone number'.
"""

from __future__ import annotations

from matching.ingest.standardise.sql import first_defect, let, literal
from matching.specs import FieldSpec

NOT_EMAIL = "not a valid email address"
NOT_UK_PHONE = "not a UK phone number"
NOT_PHONE = "not a valid phone number"

_EMAIL = r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+"
_EXTENSION = r"(?i)\s*(ext|extn|x)\.?\s*\d{1,5}$"


def clean_email(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The email address in lower case, and why a non-blank one was nulled."""
    value = let(f"lower({raw})", lambda v: f"CASE WHEN regexp_full_match({v}, {literal(_EMAIL)}) THEN {v} END")
    return value, literal(NOT_EMAIL)


def _digits(raw: str) -> str:
    """Digits and a leading +, without an extension or the '(0)' of '+44 (0)20'."""

    def strip(v: str) -> str:
        no_ext = f"CASE WHEN regexp_matches({v}, '[A-Za-z]') THEN regexp_replace({v}, {literal(_EXTENSION)}, '') ELSE {v} END"
        no_zero = f"replace({no_ext}, '(0)', '')"
        return let(no_zero, lambda w: f"CASE WHEN regexp_matches({w}, '[^0-9]') THEN regexp_replace({w}, '[^0-9+]', '', 'g') ELSE {w} END")

    return let(raw, strip)


def national(raw: str) -> str:
    """The number in national form ('0...'), NULL for another country's number."""

    def convert(d: str) -> str:
        after_44 = f"regexp_replace({d}, '^(\\+|00)44 ?0?', '')"
        return (
            f"CASE WHEN regexp_matches({d}, '^(\\+|00)44') THEN '0' || {after_44} "
            f"WHEN starts_with({d}, '+') OR starts_with({d}, '00') THEN NULL "
            f"WHEN length({d}) = 12 AND starts_with({d}, '44') THEN '0' || substr({d}, 3) "
            f"WHEN length({d}) = 10 AND starts_with({d}, '7') THEN '0' || {d} "
            f"ELSE {d} END"
        )

    return let(_digits(raw), convert)


def clean_phone(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The phone number as '0' and 10 digits, and why a non-blank one was nulled."""
    valid = r"0[1-9]\d{9}|01\d{8}|0800\d{6}"
    value = let(national(raw), lambda n: f"CASE WHEN regexp_full_match({n}, '{valid}') THEN {n} END")
    defect = first_defect([(f"{national(raw)} IS NULL", NOT_UK_PHONE), ("true", NOT_PHONE)])
    return value, defect
