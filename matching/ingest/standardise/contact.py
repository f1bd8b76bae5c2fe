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

from matching.ingest.standardise.sql import bind, first_defect, let, literal, unless
from matching.specs import FieldSpec

NOT_EMAIL = "not a valid email address"
NOT_UK_PHONE = "not a UK phone number"
NOT_PHONE = "not a valid phone number"

_EMAIL = r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+"
_EXTENSION = r"(?i)\s*(ext|extn|x)\.?\s*\d{1,5}$"


def clean_email(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The email address in lower case, and why a non-blank one was nulled."""
    v = bind(f"lower({raw})")
    return f"CASE WHEN regexp_full_match({v}, {literal(_EMAIL)}) THEN {v} END", literal(NOT_EMAIL)


def _digits(raw: str) -> str:
    """Digits and a leading +, without an extension or the '(0)' of '+44 (0)20'."""

    def strip(v: str) -> str:
        no_ext = f"CASE WHEN regexp_matches({v}, '[A-Za-z]') THEN regexp_replace({v}, {literal(_EXTENSION)}, '') ELSE {v} END"
        return f"regexp_replace(replace({no_ext}, '(0)', ''), '[^0-9+]', '', 'g')"

    spaceless = bind(f"replace(replace(replace({raw}, ' ', ''), '-', ''), '(0)', '')")
    return bind(unless(f"regexp_full_match({spaceless}, '\\+?\\d+')", spaceless, let(raw, strip)))


def national(raw: str) -> str:
    """The number in national form ('0...'), NULL for another country's number."""
    d = _digits(raw)
    after_44 = f"regexp_replace({d}, '^(\\+|00)44 ?0?', '')"
    return bind(
        f"CASE WHEN starts_with({d}, '+44') OR starts_with({d}, '0044') THEN '0' || {after_44} "
        f"WHEN starts_with({d}, '+') OR starts_with({d}, '00') THEN NULL "
        f"WHEN length({d}) = 12 AND starts_with({d}, '44') THEN '0' || substr({d}, 3) "
        f"WHEN length({d}) = 10 AND starts_with({d}, '7') THEN '0' || {d} "
        f"ELSE {d} END"
    )


def clean_phone(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The phone number as '0' and 10 digits, and why a non-blank one was nulled."""
    n = national(raw)
    value = f"CASE WHEN regexp_full_match({n}, '0[1-9]\\d{{9}}|01\\d{{8}}|0800\\d{{6}}') THEN {n} END"
    return value, first_defect([(f"{n} IS NULL", NOT_UK_PHONE), ("true", NOT_PHONE)])
