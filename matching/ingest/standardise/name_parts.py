"""Name parts: title, forename, middle names and surname from whatever name fields a spec has.

A spec may give a name as separate fields (``part`` = title, forename, middle, surname) or as
one full name (``part = "full"``). Whichever it has, the standardised table gets:

``title``         the title field, else titles found inside the forenames or full name
``forenames``     the cleaned forename field without titles ('JOHN PAUL')
``forename``      the first given name ('JOHN')
``middle_names``  the other given names, then a middle-names field unless it repeats them
                  ('JOHN PAUL' + middle 'GEORGE' -> 'PAUL GEORGE'; + 'PAUL' -> 'PAUL')
``surname``       the surname, hyphens and particles kept ('SMITH-JONES', 'VAN DER BERG')
``forename_canonical``  the forename's formal name (BOB -> ROBERT, see ``nicknames``)
``forename_phonetic``, ``surname_phonetic``  Metaphone keys (see ``phonetic``)

Names repeat: a payroll of a million rows has tens of thousands of distinct forenames. So
everything about a name field is worked out once per distinct raw value
(``lookup_columns``, ``keyed_columns``) and joined back by the pipeline; ``name_columns``
then only picks and merges.

An explicit field wins over a part found inside another field (a title field over a title
in the forenames, a surname field over the surname of a full name). When a spec has two
fields with the same part, the first in spec order supplies these columns; the others are
cleaned in place only.

A full name is split as 'SURNAME, Forenames' when it has a comma; otherwise the last word is
the surname, extended backwards over particles (VAN, DER, DE, LA, O, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from matching.ingest.standardise.names import (
    NO_LETTERS,
    ONLY_A_TITLE,
    clean_name_text,
    has_title,
    join_surname_prefix,
    normalise_title,
    titles_of,
    without_titles,
)
from matching.ingest.standardise.sql import bind, let, literal
from matching.specs import DatasetSpec, FieldSpec

NAME_COLUMNS = ("title", "forenames", "forename", "middle_names", "surname")

_PARTICLES = "VAN|VON|DER|DEN|DE|DEL|DELLA|DA|DI|DU|DOS|DAS|LA|LE|ST|AL|EL|BIN|BINTI|MAC|MC|O"
_SPLIT = rf"^(.+?) ((?:(?:{_PARTICLES}) )*[^ ]+)$"


def _after_comma(raw: str) -> str:
    return f"substr({raw}, strpos({raw}, ',') + 1)"


def full_name_given(raw: str) -> str:
    """The given names of a full name, without titles."""
    comma = without_titles(clean_name_text(_after_comma(raw)))
    plain = let(
        without_titles(clean_name_text(raw)),
        lambda v: f"CASE WHEN contains({v}, ' ') THEN regexp_extract({v}, '{_SPLIT}', 1) END",
    )
    return f"CASE WHEN contains({raw}, ',') THEN {comma} ELSE {plain} END"


def full_name_surname(raw: str) -> str:
    """The surname of a full name: before the comma, else the last word and its particles."""
    comma = without_titles(clean_name_text(f"split_part({raw}, ',', 1)"))
    plain = let(
        without_titles(clean_name_text(raw)),
        lambda v: f"CASE WHEN contains({v}, ' ') THEN regexp_extract({v}, '{_SPLIT}', 2) ELSE {v} END",
    )
    return join_surname_prefix(f"CASE WHEN contains({raw}, ',') THEN {comma} ELSE {plain} END")


def full_name_value(raw: str) -> str:
    """A full name in natural order without titles: 'Smith, Mr John' -> 'JOHN SMITH'.

    Written in natural order, a name must read back as itself, so the value is the natural
    reading of what the parts make: 'AO, X O' gives X O + AO, which reads as X and the
    surname O AO, so OAO (as 'X O AO' itself standardises)."""
    def natural(v: str) -> str:
        return f"NULLIF(concat_ws(' ', {full_name_given(v)}, {full_name_surname(v)}), '')"

    return let(natural(raw), natural)


def _first(spec: DatasetSpec, part: str) -> FieldSpec | None:
    return next((f for f in spec.fields if f.type == "name" and f.part == part), None)


def _first_word(text: str) -> str:
    return f"split_part({text}, ' ', 1)"


def _other_words(text: str) -> str:
    return f"CASE WHEN contains({text}, ' ') THEN substr({text}, strpos({text}, ' ') + 1) END"


def lookup_columns(field: FieldSpec, raw: str) -> list[tuple[str, str]]:
    """What is worked out once per distinct raw value of a name field, as (key, SQL).

    Always ``value`` and ``defect``; for a forename field also its ``titles``, ``first``
    given name and the ``rest``; for a full name the same plus ``given`` and ``surname``.
    ``KEYED_COLUMNS`` are added over these (canonical forename, phonetic keys)."""
    value, defect = clean_name(raw, field)
    columns = [("value", value), ("defect", defect)]
    if field.part == "forename":
        text = clean_name_text(raw)
        given = value
        columns.append(("titles", f"CASE WHEN {bind(has_title(text))} THEN {titles_of(text)} END"))
    elif field.part == "full":
        given = bind(full_name_given(raw))
        columns += [("titles", titles_of(clean_name_text(raw))), ("given", given), ("surname", full_name_surname(raw))]
    else:
        return columns
    return [*columns, ("first", _first_word(given)), ("rest", _other_words(given))]


def keyed_columns(field: FieldSpec, column: Callable[[str], str], metaphone: str, nicknames: str) -> list[tuple[str, str]]:
    """Canonical forename and phonetic keys over a name field's ``lookup_columns``:
    ``column(key)`` is the SQL of one of them; ``metaphone`` the phonetic function and
    ``nicknames`` the alias of the joined nickname table (its ``canonical``)."""
    if field.part in ("forename", "full"):
        keyed = [
            ("canonical", f"coalesce({nicknames}.canonical, {column('first')})"),
            ("forename_phonetic", f"{metaphone}({column('first')})"),
        ]
        if field.part == "full":
            keyed.append(("surname_phonetic", f"{metaphone}({column('surname')})"))
        return keyed
    if field.part == "surname":
        return [("surname_phonetic", f"{metaphone}({column('value')})")]
    return []


def _coalesce(exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"


def _merge_middle(rest: str, middle: str) -> str:
    """Other given names, then the middle-names field unless it repeats them (or they it).

    Compared as whole words in a string, not word by word: 'PAUL' + 'PAUL' -> 'PAUL',
    'PAUL' + 'GEORGE' -> 'PAUL GEORGE', 'PAUL GEORGE' + 'GEORGE' -> 'PAUL GEORGE'."""
    return (
        f"CASE WHEN {middle} IS NULL THEN {rest} WHEN {rest} IS NULL THEN {middle} "
        f"WHEN contains(' ' || {rest} || ' ', ' ' || {middle} || ' ') THEN {rest} "
        f"WHEN contains(' ' || {middle} || ' ', ' ' || {rest} || ' ') THEN {middle} "
        f"ELSE {rest} || ' ' || {middle} END"
    )


def _without_surname(given: str, surname: str, *, whole: bool = False) -> str:
    """Given names without a trailing copy of the surname ('JOHN PAUL SMITH' with surname
    SMITH -> 'JOHN PAUL'), written in up to three words however the surname field writes it
    ('JOHN SMITH JONES' with SMITH-JONES, 'JOHN O BRIEN' with OBRIEN, 'JOHN MAC DONALD' with
    MACDONALD). Of the other given names, 'SMITH' alone goes; of the forenames (``whole``),
    it stays: a forename may be the surname too. This drops a middle name that is the surname
    as well (PETER JAMES JAMES), which is rarer than a full name keyed into the forename
    field, and costs less: a missing middle name is no evidence either way, a middle name that
    is really the surname is evidence against the right match."""
    key = f"regexp_replace({surname}, '[^A-Z]', '', 'g')"

    def strip(words: str) -> str:
        n = f"len({words})"
        cases = " ".join(
            f"WHEN {n} {'>' if whole else '>='} {k} AND array_to_string({words}[{n} - {k - 1}:], '') = {key} "
            f"THEN nullif(array_to_string({words}[:{n} - {k}], ' '), '')"
            for k in (1, 2, 3)
        )
        return f"CASE {cases} ELSE {given} END"

    # Only a name ending in the surname's last letter can end in the surname: the rest skip
    # the splitting (a lambda, costly in DuckDB).
    return (
        f"CASE WHEN {surname} IS NULL OR {given} IS NULL OR right({given}, 1) <> right({surname}, 1) THEN {given} "
        f"ELSE {let(f'string_split({given}, {chr(39)} {chr(39)})', strip)} END"
    )


def name_columns(spec: DatasetSpec, column: Callable[[FieldSpec, str], str]) -> list[tuple[str, str]]:
    """The derived name columns as (column, SQL); ``column(field, key)`` is the SQL of one of
    a name field's looked-up columns (``lookup_columns`` and ``keyed_columns``)."""
    title_f, fore_f, mid_f = _first(spec, "title"), _first(spec, "forename"), _first(spec, "middle")
    sur_f, full_f = _first(spec, "surname"), _first(spec, "full")
    given_fields = [f for f in (fore_f, full_f) if f]

    def pick(fields: Sequence[FieldSpec | None], key: str) -> list[str]:
        return [column(f, key) for f in fields if f]

    titles = pick([title_f], "value") + pick(given_fields, "titles")
    columns: list[tuple[str, str]] = [("title", _coalesce(titles))] if titles else []
    if given_fields:
        rest = bind(_coalesce(pick(given_fields, "rest")))
        forenames = pick([fore_f], "value")
        if fore_f and sur_f:
            # A full name keyed into the forename field ('JOHN SMITH', surname SMITH) does
            # not make the surname a middle name.
            surname = column(sur_f, "value")
            rest, forenames = bind(_without_surname(rest, surname)), [_without_surname(forenames[0], surname, whole=True)]
        columns += [
            ("forenames", _coalesce(forenames + pick([full_f], "given"))),
            ("forename", _coalesce(pick(given_fields, "first"))),
            ("middle_names", _merge_middle(rest, column(mid_f, "value")) if mid_f else rest),
        ]
    elif mid_f:
        columns.append(("middle_names", column(mid_f, "value")))
    if sur_f or full_f:
        columns.append(("surname", _coalesce(pick([sur_f], "value") + pick([full_f], "surname"))))
    if given_fields:
        columns += [
            ("forename_canonical", _coalesce(pick(given_fields, "canonical"))),
            ("forename_phonetic", _coalesce(pick(given_fields, "forename_phonetic"))),
        ]
    if sur_f or full_f:
        columns.append(("surname_phonetic", _coalesce(pick([sur_f, full_f], "surname_phonetic"))))
    return columns


def _forename_value(raw: str) -> str:
    text = clean_name_text(raw)
    return bind(text, lambda v: f"CASE WHEN {bind(has_title(v))} THEN {without_titles(v)} ELSE {v} END")


def clean_name(raw: str, field: FieldSpec) -> tuple[str, str]:
    """A name field's standardised value and its defect, by the part it holds."""
    text = clean_name_text(raw)
    if field.part == "forename":
        value = _forename_value(raw)
    elif field.part == "title":
        value = normalise_title(text)
    elif field.part == "surname":
        value = join_surname_prefix(text)
    elif field.part == "full":
        value = full_name_value(raw)
    else:
        value = text
    defect = f"CASE WHEN {text} IS NULL THEN {literal(NO_LETTERS)} ELSE {literal(ONLY_A_TITLE)} END"
    return value, defect
