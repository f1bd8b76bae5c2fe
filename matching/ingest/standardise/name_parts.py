"""Name parts: title, forename, middle names and surname from whatever name fields a spec has.

A spec may give a name as separate fields (``part`` = title, forename, middle, surname) or as
one full name (``part = "full"``). Whichever it has, the standardised table gets:

``title``         the title field, else titles found inside the forenames or full name
``forenames``     the cleaned forename field without titles ('JOHN PAUL')
``forename``      the first given name ('JOHN')
``middle_names``  the other given names, then any words of a middle-names field not already
                  among them ('JOHN PAUL' + middle 'GEORGE' -> 'PAUL GEORGE')
``surname``       the surname, hyphens and particles kept ('SMITH-JONES', 'VAN DER BERG')

An explicit field wins over a part found inside another field (a title field over a title
in the forenames, a surname field over the surname of a full name). When a spec has two
fields with the same part, the first in spec order supplies these columns; the others are
cleaned in place only.

A full name is split as 'SURNAME, Forenames' when it has a comma; otherwise the last word is
the surname, extended backwards over particles (VAN, DER, DE, LA, O, ...).
"""

from __future__ import annotations

from collections.abc import Callable

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
    """A full name in natural order without titles: 'Smith, Mr John' -> 'JOHN SMITH'."""
    return f"NULLIF(concat_ws(' ', {full_name_given(raw)}, {full_name_surname(raw)}), '')"


def _first(spec: DatasetSpec, part: str) -> FieldSpec | None:
    return next((f for f in spec.fields if f.type == "name" and f.part == part), None)


def _merge_middle(rest: str, middle: str) -> str:
    """Other given names, then middle-field words not already among them."""
    extra = f"list_filter(string_split({middle}, ' '), lambda _m: NOT list_contains(string_split({rest}, ' '), _m))"
    return (
        f"CASE WHEN {middle} IS NULL THEN {rest} WHEN {rest} IS NULL THEN {middle} "
        f"ELSE concat_ws(' ', {rest}, NULLIF(array_to_string({extra}, ' '), '')) END"
    )


def _coalesce(exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"


def name_columns(spec: DatasetSpec, value: Callable[[FieldSpec], str], raw: Callable[[FieldSpec], str]) -> list[tuple[str, str]]:
    """The derived name columns as (column, SQL), given each field's standardised value
    and raw text as SQL."""
    title_f, fore_f, mid_f = _first(spec, "title"), _first(spec, "forename"), _first(spec, "middle")
    sur_f, full_f = _first(spec, "surname"), _first(spec, "full")
    columns: list[tuple[str, str]] = []

    titles = [value(title_f)] if title_f else []
    if fore_f:
        text = clean_name_text(raw(fore_f))
        titles.append(f"CASE WHEN {bind(has_title(text))} THEN {titles_of(text)} END")
    if full_f:
        titles.append(titles_of(clean_name_text(raw(full_f))))
    if titles:
        columns.append(("title", _coalesce(titles)))

    given = ([value(fore_f)] if fore_f else []) + ([full_name_given(raw(full_f))] if full_f else [])
    if given:
        forenames = bind(_coalesce(given))
        rest = f"CASE WHEN contains({forenames}, ' ') THEN substr({forenames}, strpos({forenames}, ' ') + 1) END"
        columns.append(("forenames", forenames))
        columns.append(("forename", f"split_part({forenames}, ' ', 1)"))
        columns.append(("middle_names", _merge_middle(bind(rest), value(mid_f)) if mid_f else rest))
    elif mid_f:
        columns.append(("middle_names", value(mid_f)))

    surnames = ([value(sur_f)] if sur_f else []) + ([full_name_surname(raw(full_f))] if full_f else [])
    if surnames:
        columns.append(("surname", _coalesce(surnames)))
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
