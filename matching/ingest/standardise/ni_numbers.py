"""National Insurance numbers: 'ab 12 34 56 c' -> 'AB123456C', or nulled with the reason.

The rules (HMRC's National Insurance Manual, NIM39110):

- two prefix letters, six digits, a suffix letter A, B, C or D;
- the first letter is not D, F, I, Q, U or V; the second is not D, F, I, O, Q, U or V;
- the prefixes BG, GB, NK, KN, NT, TN and ZZ are never issued.

Temporary reference numbers are not NI numbers and get their own reason so a body can see
how many it sent: 'TN' + date of birth + M/F (TN010180M), and older ones whose suffix is a
letter other than A-D.
"""

from __future__ import annotations

from matching.ingest.standardise.sql import bind, first_defect
from matching.specs import FieldSpec

NOT_FORMAT = "not in NI number format (AA999999A)"
TEMPORARY = "temporary NI number"
BAD_PREFIX = "invalid NI number prefix"

_VALID = r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]"
_NEVER_ISSUED = "('BG', 'GB', 'NK', 'KN', 'NT', 'TN', 'ZZ')"


def compact(raw: str) -> str:
    """Upper case with spaces, dashes and any other separators removed."""
    spaceless = bind(f"replace(upper({raw}), ' ', '')")
    return bind(
        f"CASE WHEN regexp_matches({spaceless}, '[^A-Z0-9]') THEN regexp_replace({spaceless}, '[^A-Z0-9]', '', 'g') ELSE {spaceless} END"
    )


def clean_ni_number(raw: str, field: FieldSpec) -> tuple[str, str]:
    """The NI number as AA999999A, and why a non-blank one was nulled."""
    s = compact(raw)
    value = f"CASE WHEN regexp_full_match({s}, '{_VALID}') AND left({s}, 2) NOT IN {_NEVER_ISSUED} THEN {s} END"
    defect = first_defect(
        [
            (f"NOT regexp_full_match({s}, '[A-Z]{{2}}\\d{{6}}[A-Z]')", NOT_FORMAT),
            (f"left({s}, 2) = 'TN' OR right({s}, 1) NOT IN ('A', 'B', 'C', 'D')", TEMPORARY),
            ("true", BAD_PREFIX),
        ]
    )
    return value, defect
