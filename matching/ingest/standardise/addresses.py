"""Addresses: the subject's address lines (``address_line`` 1-4) cleaned and parsed.

Each line, in order (``LINE_STEPS``):

1. ``_restore_spreadsheet_date``: a line that is only a date was a flat and house number
   ('3/12') or a range ('3-12') that a spreadsheet turned into a date, and is put back as
   day/month, '3/12' (which of '/' and '-' was typed is lost, so every form gives the same
   answer). Only the forms Excel writes are repaired:

   - '03-Dec' or '3-Dec' (d-mmm, as Excel shows a day and month typed as '3-12' or '3/12');
   - 'Dec-14' (mmm-yy, as it shows '12-14' or '12/14', whose second number is no month);
   - '03/12/2024' (dd/mm/yyyy, the same cell formatted as a date);
   - '2024-12-03', '2024-12-03 00:00:00' (ISO, a date cell read from XLSX or written by a
     program).

   Nothing else can have produced such a line. A dd/mm/yyyy or ISO date of 'Dec-14' (1
   December 2014) reads '1/12': the cell no longer says the 14 was not a day.
2. ``_fold_case_and_accents``: upper case, accents stripped.
3. ``_tidy_punctuation``: apostrophes removed (ST JOHN'S -> ST JOHNS), '&' -> AND, hyphens
   and slashes kept and closed up ('12 - 14' -> '12-14', '3 / 12' -> '3/12'), commas kept
   as ', ' (they end a part of a line: '12 HIGH ST, LONDON'), all other punctuation
   becomes a space, whitespace collapsed.

From the cleaned lines, in line order (the postcode has its own columns and is dropped if
a line ends with it):

``address_single``  one line for comparison, abbreviations spelt out (``ABBREVIATIONS``:
                    RD -> ROAD, AVE -> AVENUE, FLT/APT -> FLAT, SAINT -> ST, ...). ST is
                    STREET only as the last word of a line (HIGH ST); elsewhere it is
                    SAINT and stays ST (ST JOHNS ROAD).
``address_flat``    the flat: '3' from 'FLAT 3' or '3/12 HIGH ST', '3A', 'A', or the floor
                    ('GROUND FLOOR', 'BASEMENT') of 'GROUND FLOOR FLAT'.
``address_number``  the house number: '12', '12A', '12-14'.
``address_street``  the street: the words after the house number up to the end of its line,
                    or else the first line ending in a street word (ROAD, STREET, ...).
"""

from __future__ import annotations

from matching.ingest.standardise.sql import Step, apply_steps, bind, case_map, let, literal, unless
from matching.specs import FieldSpec

ADDRESS_COLUMNS = ("address_single", "address_flat", "address_number", "address_street")

ABBREVIATIONS: dict[str, str] = {
    "RD": "ROAD", "STR": "STREET", "AVE": "AVENUE", "AV": "AVENUE", "AVEN": "AVENUE",
    "CL": "CLOSE", "CLS": "CLOSE", "CRES": "CRESCENT", "CRESC": "CRESCENT", "CRS": "CRESCENT",
    "DR": "DRIVE", "DRV": "DRIVE", "GDNS": "GARDENS", "LN": "LANE", "PL": "PLACE",
    "SQ": "SQUARE", "CT": "COURT", "CRT": "COURT", "TER": "TERRACE", "TERR": "TERRACE",
    "TCE": "TERRACE", "GRV": "GROVE", "PK": "PARK", "PDE": "PARADE", "WLK": "WALK",
    "MWS": "MEWS", "GRN": "GREEN", "HSE": "HOUSE", "BLDGS": "BUILDINGS", "NTH": "NORTH",
    "STH": "SOUTH", "UPR": "UPPER", "LWR": "LOWER",
    "FLT": "FLAT", "APT": "FLAT", "APARTMENT": "FLAT", "SAINT": "ST",
}
STREET_WORDS = (
    "ROAD", "STREET", "AVENUE", "CLOSE", "CRESCENT", "DRIVE", "GARDENS", "LANE", "PLACE",
    "SQUARE", "COURT", "TERRACE", "WAY", "GROVE", "HILL", "PARK", "RISE", "ROW", "WALK",
    "MEWS", "PARADE", "GREEN", "VIEW", "WHARF", "BOULEVARD", "HIGHWAY",
)

_FLAT_WORDS = "FLAT|UNIT|ROOM|SUITE"
_FLAT = rf"\b(?:{_FLAT_WORDS}) (\d+[A-Z]?|[A-Z]\d*)\b"
_SLASH = r"^(\d+[A-Z]?)/(\d+[A-Z]?)\b"
_FLOOR = r"\b(GROUND|BASEMENT|LOWER GROUND|FIRST|SECOND|THIRD|FOURTH|TOP|UPPER|LOWER) (?:FLOOR )?FLAT\b"
_LEADING_NUMBER = r"^(\d+[A-Z]?(?:-\d+[A-Z]?)?),? ([^,]*)"
_NUMBER_STREET = r"(?:^|[ ,/])(\d+[A-Z]?(?:-\d+[A-Z]?)?)(?:,? ([A-Z][A-Z -]*?))?(?:,|$)"
_STREET_LINE = rf"(?:^|, )([A-Z][A-Z -]* (?:{'|'.join(STREET_WORDS)}))(?:,|$)"
_TRAILING_POSTCODE = r",? ?[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"
_ABBREVIATED = r"\b(" + "|".join(["ST", *ABBREVIATIONS]) + r")\b"
_FIRST_LINE_ENDING = r"[^,]* (?:" + "|".join(["ST", *ABBREVIATIONS]) + r")(?:,.*)?"
_ABBREVIATED_NOT_ST = r"\b(" + "|".join(ABBREVIATIONS) + r")\b|\bST,"


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _restore_spreadsheet_date(e: str) -> str:
    day_first = r"^(\d{1,2})/(\d{1,2})/\d{4}$"
    iso = r"^\d{4}-(\d{2})-(\d{2})(?: 00:00(?::00)?)?$"
    months = "|".join(_MONTHS)
    day_month = rf"^(\d{{1,2}})-({months})$"
    month_year = rf"^({months})-(\d\d)$"

    def month(name: str) -> str:
        return f"CAST((strpos({literal(''.join(_MONTHS))}, {name}) + 2) // 3 AS VARCHAR)"

    def restore(v: str) -> str:
        up = f"upper({v})"
        return (
            f"CASE WHEN regexp_full_match({v}, {literal(day_first[1:-1])}) "
            f"THEN ltrim(regexp_replace({v}, {literal(day_first)}, '\\1'), '0') || '/' || ltrim(regexp_replace({v}, {literal(day_first)}, '\\2'), '0') "
            f"WHEN regexp_full_match({v}, {literal(iso[1:-1])}) "
            f"THEN ltrim(regexp_replace({v}, {literal(iso)}, '\\2'), '0') || '/' || ltrim(regexp_replace({v}, {literal(iso)}, '\\1'), '0') "
            f"WHEN regexp_full_match({up}, {literal(day_month[1:-1])}) "
            f"THEN ltrim(regexp_extract({up}, {literal(day_month)}, 1), '0') || '/' || {month(f'regexp_extract({up}, {literal(day_month)}, 2)')} "
            f"WHEN regexp_full_match({up}, {literal(month_year[1:-1])}) "
            f"THEN {month(f'regexp_extract({up}, {literal(month_year)}, 1)')} || '/' || regexp_extract({up}, {literal(month_year)}, 2) "
            f"ELSE {v} END"
        )

    looks_like_a_date = r"^(?:\d+[/-]\d+[/-]\d+|\d{1,2}-[A-Za-z]{3}$|[A-Za-z]{3}-\d\d$)"
    return bind(e, lambda v: f"CASE WHEN regexp_matches({v}, {literal(looks_like_a_date)}) THEN {let(v, restore)} ELSE {v} END")


def _fold_case_and_accents(e: str) -> str:
    return bind(f"strip_accents(upper({e}))")


def _tidy_punctuation(e: str) -> str:
    no_apostrophes = f"replace(replace(replace({e}, '''', ''), '’', ''), '‘', '')"
    ands = f"replace({no_apostrophes}, '&', ' AND ')"
    spaced = f"regexp_replace({ands}, '[^A-Z0-9/,-]+', ' ', 'g')"
    closed = f"regexp_replace({spaced}, ' ?([/-]) ?', '\\1', 'g')"
    commas = f"regexp_replace({closed}, ' ?,[ ,]*', ', ', 'g')"
    plain = "[A-Z0-9]+(?:[ /-][A-Z0-9]+)*"
    return bind(unless(f"regexp_full_match({e}, '{plain}')", e, f"NULLIF(trim({commas}, ' ,-/'), '')"))


LINE_STEPS: list[Step] = [_restore_spreadsheet_date, _fold_case_and_accents, _tidy_punctuation]


def clean_address_line(raw: str, field: FieldSpec) -> tuple[str, str]:
    """One address line, cleaned; the defect is the text one (too long)."""
    value = apply_steps(raw, LINE_STEPS)
    limit = field.max_length
    if limit:
        return f"CASE WHEN length({value}) <= {int(limit)} THEN {value} END", literal(f"longer than {limit} characters")
    return value, "NULL"


def _spell_out(joined: str) -> str:
    """The address with its abbreviations spelt out; ST becomes STREET only as the last word
    of a line (before a comma or at the end).

    Most addresses hold one abbreviation, the last word of their first line ('12 HIGH ST,
    ...'): one regular expression finds it and that word alone is mapped. Any other address
    holding an abbreviation is split into words and each word mapped."""

    def every_word(v: str) -> str:
        at_end = f"CASE WHEN suffix({v}, ' ST') OR {v} = 'ST' THEN {v} || 'REET' ELSE {v} END"
        street = f"replace(replace({at_end}, ' ST,', ' STREET,'), ', ', ' , ')"
        word = case_map("_w", ABBREVIATIONS, "_w")
        return f"replace(array_to_string(list_transform(string_split({street}, ' '), lambda _w: {word}), ' '), ' , ', ', ')"

    def spelt(v: str) -> str:
        # The regular expression only tests (fast); string functions cut the address up.
        first_line = bind(f"split_part({v}, ',', 1)")
        word = bind(f"split_part({first_line}, ' ', -1)")
        head = f"left({first_line}, length({first_line}) - length({word}))"
        after = f"substr({v}, length({first_line}) + 1)"
        mapped = case_map(word, {"ST": "STREET", **ABBREVIATIONS}, "NULL")
        one = f"regexp_full_match({v}, '{_FIRST_LINE_ENDING}') AND NOT regexp_matches({head} || {after}, '{_ABBREVIATED_NOT_ST}')"
        return (
            f"CASE WHEN {one} THEN {head} || {mapped} || {after} "
            f"WHEN NOT regexp_matches({v}, '{_ABBREVIATED}') THEN {v} ELSE {every_word(v)} END"
        )

    return bind(bind(joined, spelt))


def _number_and_street(c: str) -> tuple[str, str]:
    """The house number and street: usually the address starts with the number and the
    street follows (one anchored regular expression); otherwise a second one searches."""
    lead = bind(f"regexp_extract({c}, '{_LEADING_NUMBER}', ['number', 'street'])")
    searched = bind(f"CASE WHEN {lead}.number = '' THEN regexp_extract({c}, '{_NUMBER_STREET}', ['number', 'street']) END")
    number = f"CASE WHEN {lead}.number <> '' THEN {lead}.number ELSE NULLIF({searched}.number, '') END"
    street = bind(f"NULLIF(CASE WHEN {lead}.number <> '' THEN {lead}.street ELSE {searched}.street END, '')")
    street_line = f"NULLIF(regexp_extract({c}, '{_STREET_LINE}', 1), '')"
    return number, f"CASE WHEN {street} IS NOT NULL THEN {street} ELSE {street_line} END"


def address_columns(lines: list[str]) -> list[tuple[str, str]]:
    """The derived address columns over the cleaned lines (SQL), in line order."""
    joined = bind(f"NULLIF(concat_ws(', ', {', '.join(lines)}), '')")
    ends_like_postcode = f"regexp_matches({joined}, '\\d[A-Z]{{2}}$')"
    c = _spell_out(bind(f"CASE WHEN {ends_like_postcode} THEN regexp_replace({joined}, '{_TRAILING_POSTCODE}', '') ELSE {joined} END"))

    has_flat = bind(" OR ".join(f"contains({c}, '{w}')" for w in _FLAT_WORDS.split("|")))
    no_flat = bind(f"CASE WHEN {has_flat} THEN ltrim(regexp_replace({c}, '{_FLAT}', ''), ' ,') ELSE {c} END")
    slashed = bind(f"contains({c}, '/') AND regexp_matches({c}, '{_SLASH}')")
    floor = f"regexp_extract({c}, '{_FLOOR}', 1)"
    numbered = f"regexp_extract({c}, '{_FLAT}', 1)"
    flat = (
        f"CASE WHEN {slashed} THEN regexp_extract({c}, '{_SLASH}', 1) "
        f"WHEN NOT {has_flat} THEN NULL "
        f"WHEN {numbered} <> '' THEN {numbered} "
        f"WHEN {floor} = '' THEN NULL WHEN {floor} = 'BASEMENT' THEN 'BASEMENT' ELSE {floor} || ' FLOOR' END"
    )
    number, street = _number_and_street(no_flat)
    return [
        ("address_single", f"NULLIF(replace({c}, ',', ''), '')"),
        ("address_flat", flat),
        ("address_number", f"CASE WHEN {slashed} THEN regexp_extract({c}, '{_SLASH}', 2) ELSE {number} END"),
        ("address_street", street),
    ]
