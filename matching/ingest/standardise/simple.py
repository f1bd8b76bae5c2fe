"""The simple types: code, flag, text, number and UPRN.

code    upper case, whitespace collapsed; with ``values`` in the spec, anything else is the
        defect 'not one of: A, B, C' (the list is shortened past eight values).
flag    BOOLEAN from Y/N, YES/NO, TRUE/FALSE, T/F, 1/0 (any case); else 'not a yes/no value'.
text    whitespace collapsed, otherwise kept as written; with ``max_length``, a longer value
        is the defect 'longer than N characters'.
number  DOUBLE. '37.5' and '1,234.5' (thousands separators in the right places) are read as
        written; a single comma with other than three digits after it is a decimal comma
        ('37,5' -> 37.5), as some European-locale spreadsheets export. Else 'not a number'.
uprn    BIGINT, 1 to 12 digits, leading zeros dropped. A UPRN that went through a
        spreadsheet is repaired when nothing was lost: '100023336956.0' and
        '1.00023336956E+11' are exact. '1.00023E+11' or '1.0E+11' is not: a spreadsheet
        shows 12-digit numbers rounded to 6 significant figures, so the digits after the
        mantissa cannot be known, and a wrong UPRN would link two different properties. Those
        get the defect 'UPRN rounded by a spreadsheet (scientific notation)'; anything else
        that is not 1-12 digits (or is 0) gets 'not a valid UPRN (1-12 digits)'.
"""

from __future__ import annotations

from matching.ingest.standardise.sql import bind, first_defect, let, literal, unless
from matching.specs import FieldSpec

NOT_FLAG = "not a yes/no value"
NOT_NUMBER = "not a number"
NOT_UPRN = "not a valid UPRN (1-12 digits)"
ROUNDED_UPRN = "UPRN rounded by a spreadsheet (scientific notation)"

_TRUE = "('Y', 'YES', 'TRUE', 'T', '1')"
_FALSE = "('N', 'NO', 'FALSE', 'F', '0')"


def collapse_whitespace(e: str) -> str:
    """Runs of spaces, tabs and line breaks become one space (only when there are any)."""
    v = bind(e)
    odd = " OR ".join(f"contains({v}, {c})" for c in ("'  '", "chr(9)", "chr(10)", "chr(13)", "chr(12)", "chr(11)"))
    return bind(f"CASE WHEN {odd} THEN trim(regexp_replace({v}, '\\s+', ' ', 'g')) ELSE {v} END")


def not_one_of(values: tuple[str, ...]) -> str:
    shown = ", ".join(values[:8]) + (", ..." if len(values) > 8 else "")
    return f"not one of: {shown}"


def clean_code(raw: str, field: FieldSpec) -> tuple[str, str]:
    value = collapse_whitespace(f"upper({raw})")
    if field.values:
        allowed = ", ".join(literal(v) for v in field.values)
        return f"CASE WHEN {value} IN ({allowed}) THEN {value} END", literal(not_one_of(field.values))
    return value, "NULL"


def clean_flag(raw: str, field: FieldSpec) -> tuple[str, str]:
    v = bind(f"upper({raw})")
    return f"CASE WHEN {v} IN {_TRUE} THEN true WHEN {v} IN {_FALSE} THEN false END", literal(NOT_FLAG)


def clean_text(raw: str, field: FieldSpec) -> tuple[str, str]:
    value = collapse_whitespace(raw)
    limit = field.max_length
    if limit:
        return f"CASE WHEN length({value}) <= {int(limit)} THEN {value} END", literal(f"longer than {limit} characters")
    return value, "NULL"


def clean_number(raw: str, field: FieldSpec) -> tuple[str, str]:
    s = bind(f"CASE WHEN contains({raw}, ' ') THEN replace({raw}, ' ', '') ELSE {raw} END")
    plain = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
    thousands = r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"
    decimal_comma = r"[+-]?\d+,\d+"
    value = (
        f"CASE WHEN regexp_full_match({s}, '{plain}') THEN TRY_CAST({s} AS DOUBLE) "
        f"WHEN regexp_full_match({s}, '{thousands}') THEN TRY_CAST(replace({s}, ',', '') AS DOUBLE) "
        f"WHEN regexp_full_match({s}, '{decimal_comma}') THEN TRY_CAST(replace({s}, ',', '.') AS DOUBLE) END"
    )
    return value, literal(NOT_NUMBER)


def _uprn_digits(s: str) -> str:
    """Whole-number text of a UPRN as written, or NULL when digits were lost or it is not one."""
    scientific = r"^(\d)(?:\.(\d*))?[eE]\+?(\d{1,2})$"

    def from_scientific(m: str) -> str:
        digits = f"{m}.m || {m}.f"
        whole = f"left({digits}, CAST({m}.e AS INTEGER) + 1)"
        rest = f"substr({digits}, CAST({m}.e AS INTEGER) + 2)"
        return f"CASE WHEN {m}.m <> '' AND length({m}.f) >= CAST({m}.e AS INTEGER) AND ltrim({rest}, '0') = '' THEN {whole} END"

    parts = f"regexp_extract({s}, {literal(scientific)}, ['m', 'f', 'e'])"
    other = f"CASE WHEN regexp_full_match({s}, '\\d+\\.0*') THEN split_part({s}, '.', 1) ELSE {let(parts, from_scientific)} END"
    return unless(f"regexp_full_match({s}, '\\d+')", s, other)


def clean_uprn(raw: str, field: FieldSpec) -> tuple[str, str]:
    s = bind(f"CASE WHEN contains({raw}, ' ') OR contains({raw}, ',') THEN replace(replace({raw}, ' ', ''), ',', '') ELSE {raw} END")
    digits = bind(f"ltrim({_uprn_digits(s)}, '0')")
    value = f"CASE WHEN length({digits}) BETWEEN 1 AND 12 THEN CAST({digits} AS BIGINT) END"
    defect = first_defect([(f"regexp_matches({s}, '^\\d(\\.\\d*)?[eE]')", ROUNDED_UPRN), ("true", NOT_UPRN)])
    return value, defect
