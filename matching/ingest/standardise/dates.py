"""Dates: every form a council export uses, to DATE; impossible and implausible dates nulled.

A time of day after the date ('1980-02-01 00:00:00', '01/02/1980 09:30') is dropped first.
Then the text must be one of ``DATE_FORMS``, tried in order (the most common first):

=====================  ===================================  =================================
form                   examples                             rule
=====================  ===================================  =================================
day/month/year         01/02/1980, 1/2/1980, 01-02-1980,    day first, always (UK)
                       01.02.1980
ISO                    1980-02-01, 1980/02/01
ddmmyyyy               01021980, 19800201                   yyyymmdd when the ddmmyyyy year
                                                            is not 1800-2199
dmmyyyy                1021980                              a ddmmyyyy number that lost its
                                                            leading zero in a spreadsheet
ddmmyy, dd/mm/yy       010280, 01/02/80                     a date of birth: 20yy, or 19yy
                                                            when 20yy would be in the future;
                                                            any other date: 20yy, or 19yy
                                                            when 20yy is over 30 years ahead
                                                            (an expiry 28/02/27 is 2027)
day month-name year    1 Feb 1980, 01-FEB-80, 1st March     month names in English, 3+ letters
                       1980
Excel serial number    29252                                any 5-digit number: days since
                                                            1899-12-30 (see below)
=====================  ===================================  =================================

Excel's 1900 date system counts 1 January 1900 as day 1 and wrongly treats 1900 as a leap
year (day 60 is the non-existent 29/02/1900), so for every serial after 60 the true date is
1899-12-30 plus the serial. Only 5-digit serials (1927 to 2173) are read as dates, so the
bug's days are never reached; shorter numbers are not dates.

Defects: 'not a recognised date' (no form matches), 'not a real date' (31/04/2020,
29/02/1900), 'date out of range' (before 1800 or after 2199). For a date of birth (a field
named ``dob``, ending ``_dob`` or with 'birth' in its name): 'date of birth in the future' and 'date of birth
more than 120 years ago'. 31/12/9999, the usual 'no end date' placeholder, becomes NULL
without a defect in any other date field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matching.ingest.standardise.sql import bind, first_defect, let, literal
from matching.specs import FieldSpec

NOT_RECOGNISED = "not a recognised date"
NOT_REAL = "not a real date"
OUT_OF_RANGE = "date out of range"
BIRTH_IN_FUTURE = "date of birth in the future"
BIRTH_TOO_OLD = "date of birth more than 120 years ago"

_EARLIEST, _LATEST, _NO_END = "DATE '1800-01-01'", "DATE '2199-12-31'", "DATE '9999-12-31'"


@dataclass(frozen=True)
class DateForm:
    """One accepted way of writing a date: a full-match pattern and how to read it."""

    name: str
    pattern: str
    parse: Callable[[str, bool], str]  # (SQL text, a date of birth?) -> SQL DATE, NULL when the date does not exist


def _strptime(text: str, fmt: str) -> str:
    return f"CAST(try_strptime({text}, '{fmt}') AS DATE)"


# How far ahead a two-digit year may put a date that is not a date of birth (an expiry, a
# claim's end, an admission): 20yy up to this many years from today, else 19yy.
AHEAD_YEARS = 30


def _pivot(day_month: str, yy: str, fmt: str, birth: bool) -> str:
    """A two-digit year: 20yy, or 19yy when 20yy would be in the future (a date of birth) or
    more than ``AHEAD_YEARS`` ahead (any other date)."""
    this_century = _strptime(f"{day_month} || '20' || {yy}", fmt)
    latest = "current_date" if birth else f"current_date + INTERVAL {AHEAD_YEARS} YEAR"
    return let(this_century, lambda d: f"CASE WHEN {d} > {latest} THEN CAST({d} - INTERVAL 100 YEAR AS DATE) ELSE {d} END")


def _slashed(s: str) -> str:
    return f"replace(replace({s}, '.', '/'), '-', '/')"


def _ddmmyyyy(s: str) -> str:
    """Eight digits: ddmmyyyy when its year is plausible (1800-2199), else yyyymmdd.

    '19110816' is 16 August 1911, not 19 November 816: the two readings never both give a
    plausible date, since a yyyymmdd month (digits 5-6) of 01-12 is no ddmmyyyy century.
    """
    ddmmyyyy = f"CASE WHEN regexp_matches({s}, '^\\d{{4}}(18|19|20|21|99)') THEN {_strptime(s, '%d%m%Y')} END"
    yyyymmdd = f"CASE WHEN regexp_matches({s}, '^(18|19|20|21)') THEN {_strptime(s, '%Y%m%d')} END"
    return f"coalesce({ddmmyyyy}, {yyyymmdd})"


def _month_name(s: str, birth: bool) -> str:
    pattern = r"(?i)^(\d{1,2})(?:st|nd|rd|th)?[ /-]?([A-Z]{3})[A-Z]*\.?,?[ /-]?(\d+)$"
    spaced = f"regexp_replace({s}, {literal(pattern)}, '\\1 \\2 \\3')"

    def read(v: str) -> str:
        year = f"split_part({v}, ' ', 3)"
        day_month = f"split_part({v}, ' ', 1) || ' ' || split_part({v}, ' ', 2) || ' '"
        four_digits = _strptime(v, "%d %b %Y")
        return f"CASE WHEN length({year}) = 4 THEN {four_digits} ELSE {_pivot(day_month, year, '%d %b %Y', birth)} END"

    return let(spaced, read)


DATE_FORMS: list[DateForm] = [
    DateForm("day/month/year", r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}", lambda s, _: _strptime(_slashed(s), "%d/%m/%Y")),
    DateForm("ISO", r"\d{4}[/.-]\d{1,2}[/.-]\d{1,2}",
             lambda s, _: _strptime(f"replace(replace({s}, '/', '-'), '.', '-')", "%Y-%m-%d")),
    DateForm("ddmmyyyy", r"\d{8}", lambda s, _: _ddmmyyyy(s)),
    DateForm("dmmyyyy", r"\d{7}", lambda s, _: _strptime(f"'0' || {s}", "%d%m%Y")),
    DateForm("ddmmyy", r"\d{6}", lambda s, birth: _pivot(f"left({s}, 4)", f"right({s}, 2)", "%d%m%Y", birth)),
    DateForm(
        "day/month/yy",
        r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}",
        lambda s, birth: _pivot(f"left({_slashed(s)}, length({s}) - 2)", f"right({s}, 2)", "%d/%m/%Y", birth),
    ),
    DateForm("Excel serial", r"[1-9]\d{4}(\.\d*)?",
             lambda s, _: f"DATE '1899-12-30' + CAST(split_part({s}, '.', 1) AS INTEGER)"),
    DateForm("day month-name year", r"(?i)\d{1,2}(st|nd|rd|th)?[ /-]?[A-Z]{3,9}\.?,?[ /-]?(\d{2}|\d{4})", _month_name),
]

_ANY_FORM = "|".join(f"(?:{f.pattern.removeprefix('(?i)')})" for f in DATE_FORMS)


def _without_time(raw: str) -> str:
    time = r"[ T]+\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?( ?[AaPp][Mm])?(Z|[+-]\d{2}:?\d{2})?$"
    return bind(f"CASE WHEN contains({raw}, ':') THEN trim(regexp_replace({raw}, '{time}', '')) ELSE {raw} END")


def parse_date(raw: str, birth: bool = False) -> str:
    """The date written in ``raw`` (any of ``DATE_FORMS``), NULL if none or impossible;
    ``birth``: a date of birth, whose two-digit year is never in the future."""
    s = _without_time(raw)
    whens = " ".join(f"WHEN regexp_full_match({s}, {literal(f.pattern)}) THEN {f.parse(s, birth)}" for f in DATE_FORMS)
    return bind(f"CASE {whens} END")


def is_birth_date(field: FieldSpec) -> bool:
    """dob, pupil_dob, partner_dob, date_of_birth...: checked as a date of birth."""
    name = field.name.lower()
    return name == "dob" or name.endswith("_dob") or "birth" in name


def clean_date(raw: str, field: FieldSpec) -> tuple[str, str]:
    """A DATE, and why a non-blank date was nulled."""
    birth = is_birth_date(field)
    d = parse_date(raw, birth)
    accepted = [f"{d} BETWEEN {_EARLIEST} AND {_LATEST}"]
    if birth:
        accepted.append(f"{d} <= current_date AND {d} >= current_date - INTERVAL 120 YEAR")
    value = f"CASE WHEN {' AND '.join(accepted)} THEN {d} END"

    checks = [
        (f"NOT regexp_full_match({_without_time(raw)}, {literal('(?i)' + _ANY_FORM)})", NOT_RECOGNISED),
        (f"{d} IS NULL", NOT_REAL),
    ]
    if birth:
        checks += [(f"{d} > current_date", BIRTH_IN_FUTURE), (f"{d} < current_date - INTERVAL 120 YEAR", BIRTH_TOO_OLD)]
    else:
        checks.append((f"{d} = {_NO_END}", ""))
    checks.append(("true", OUT_OF_RANGE))
    return value, f"NULLIF({first_defect(checks)}, '')"
