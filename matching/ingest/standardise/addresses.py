"""Addresses: the subject's address lines (``address_line`` 1-4) cleaned and parsed.

Each line, in order (``LINE_STEPS``):

1. ``_restore_spreadsheet_date``: a line that is only a date ('03/12/2024', '2024-12-03
   00:00:00') was a flat/house number like '3/12' that a spreadsheet turned into a date;
   it is put back as day/month ('3/12'). Nothing else can have produced such a line.
2. ``_fold_case_and_accents``: upper case, accents stripped.
3. ``_tidy_punctuation``: apostrophes removed (ST JOHN'S -> ST JOHNS), '&' -> AND, hyphens
   and slashes kept and closed up ('12 - 14' -> '12-14', '3 / 12' -> '3/12'), all other
   punctuation becomes a space, whitespace collapsed.

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

from matching.ingest.standardise.simple import clean_text
from matching.ingest.standardise.sql import Step, apply_steps, case_map, let, literal
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
_NUMBER = r"(?:^|[ ,/])(\d+[A-Z]?(?:-\d+[A-Z]?)?)(?:[ ,]|$)"
_AFTER_NUMBER = r"(?:^|[ ,/])\d+[A-Z]?(?:-\d+[A-Z]?)?,? ([A-Z][A-Z -]*?)(?:,|$)"
_STREET_LINE = rf"(?:^|, )([A-Z][A-Z -]* (?:{'|'.join(STREET_WORDS)}))(?:,|$)"
_TRAILING_POSTCODE = r",? ?[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"


def _restore_spreadsheet_date(e: str) -> str:
    day_first = r"^(\d{1,2})/(\d{1,2})/\d{4}$"
    iso = r"^\d{4}-(\d{2})-(\d{2})(?: 00:00(?::00)?)?$"
    return let(
        e,
        lambda v: f"CASE WHEN regexp_full_match({v}, {literal(day_first[1:-1])}) "
        f"THEN regexp_replace({v}, {literal(day_first)}, '\\1') || '/' || ltrim(regexp_replace({v}, {literal(day_first)}, '\\2'), '0') "
        f"WHEN regexp_full_match({v}, {literal(iso[1:-1])}) "
        f"THEN ltrim(regexp_replace({v}, {literal(iso)}, '\\2'), '0') || '/' || ltrim(regexp_replace({v}, {literal(iso)}, '\\1'), '0') "
        f"ELSE {v} END",
    )


def _fold_case_and_accents(e: str) -> str:
    return f"strip_accents(upper({e}))"


def _tidy_punctuation(e: str) -> str:
    def tidy(v: str) -> str:
        no_apostrophes = f"regexp_replace({v}, '[''’‘`]', '', 'g')"
        ands = f"replace({no_apostrophes}, '&', ' AND ')"
        spaced = f"regexp_replace({ands}, '[^A-Z0-9/-]+', ' ', 'g')"
        closed = f"regexp_replace({spaced}, ' ?([/-]) ?', '\\1', 'g')"
        return f"CASE WHEN regexp_matches({v}, '[^A-Z0-9 ]|  ') THEN trim({closed}, ' -/') ELSE {v} END"

    return f"NULLIF({let(e, tidy)}, '')"


LINE_STEPS: list[Step] = [_restore_spreadsheet_date, _fold_case_and_accents, _tidy_punctuation]


def clean_address_line(raw: str, field: FieldSpec) -> tuple[str, str]:
    """One address line, cleaned; the defect is the text one (too long)."""
    value, defect = clean_text(raw, field)
    return apply_steps(value, LINE_STEPS), defect


def _spell_out(joined: str) -> str:
    """Abbreviations spelt out word by word; ',' marks the end of a line."""

    def words(tokens: str) -> str:
        word = case_map("_w", ABBREVIATIONS, "_w")
        street = f"CASE WHEN _i = len({tokens}) OR {tokens}[_i + 1] = ',' THEN 'STREET' ELSE 'ST' END"
        return f"array_to_string(list_transform({tokens}, lambda _w, _i: CASE WHEN _w = 'ST' THEN {street} ELSE {word} END), ' ')"

    tokens = f"string_split(replace({joined}, ', ', ' , '), ' ')"
    return f"replace({let(tokens, words)}, ' , ', ', ')"


def address_columns(lines: list[str]) -> list[tuple[str, str]]:
    """The derived address columns over the cleaned line columns, in line order."""
    joined = f"NULLIF(concat_ws(', ', {', '.join(lines)}), '')"
    without_postcode = let(
        joined, lambda v: f"CASE WHEN regexp_matches({v}, '{_TRAILING_POSTCODE}') THEN regexp_replace({v}, '{_TRAILING_POSTCODE}', '') ELSE {v} END"
    )
    spelt = _spell_out(without_postcode)

    def parsed(c: str) -> str:
        no_flat = f"regexp_replace({c}, '{_FLAT}', '')"
        slash_flat = f"NULLIF(regexp_extract({c}, '{_SLASH}', 1), '')"
        floor = f"NULLIF(regexp_extract({c}, '{_FLOOR}', 1), '')"
        floor_name = f"CASE WHEN {floor} = 'BASEMENT' THEN {floor} ELSE {floor} || ' FLOOR' END"
        flat = f"coalesce(NULLIF(regexp_extract({c}, '{_FLAT}', 1), ''), {slash_flat}, {floor_name})"
        number = f"coalesce(NULLIF(regexp_extract({c}, '{_SLASH}', 2), ''), NULLIF(regexp_extract({no_flat}, '{_NUMBER}', 1), ''))"
        street = (
            f"coalesce(NULLIF(trim(regexp_extract({no_flat}, '{_AFTER_NUMBER}', 1)), ''), "
            f"NULLIF(regexp_extract({c}, '{_STREET_LINE}', 1), ''))"
        )
        single = f"NULLIF(replace({c}, ',', ''), '')"
        return f"struct_pack(single := {single}, flat := {flat}, number := {number}, street := {street})"

    return [("_address", let(spelt, parsed))]
