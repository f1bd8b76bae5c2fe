"""Names: upper case, accents folded, markup and punctuation removed, titles recognised.

Most names are already plain letters once upper-cased and accent-folded ('JOHN',
'SMITH-JONES'): those are taken as they are. The rest go through ``NAME_STEPS``, in order:

1. ``_strip_markup``: ``<b>Jones</b>`` is text someone pasted, not a reason to reject a row:
   tags are removed, what is between them kept.
2. ``_fold_special_letters``: letters that have no accent to strip (ß, Ø, Ł, Æ, Œ, Đ, Þ).
3. ``_drop_punctuation``: apostrophes are removed, not spaced (O'BRIEN -> OBRIEN, D'ARCY ->
   DARCY), because systems record O'Brien as OBRIEN or O'BRIEN and both must compare equal;
   hyphens are kept between letters (SMITH-JONES, JEAN-PAUL); everything else (digits,
   full stops, commas, brackets) becomes a space; whitespace is collapsed.

A name with no letters left (``123``, ``???``) is nulled with the defect 'no letters in name'.

Titles (MR, MRS, DR, REV, ...) are recognised as whole words from ``TITLES``, which also
gives their normal form (MISTER -> MR, REVD -> REV, DOCTOR -> DR).
"""

from __future__ import annotations

from matching.ingest.standardise.sql import (
    Step,
    apply_steps,
    bind,
    case_map,
    let,
    literal,
    string_list,
    unless,
)

# Word -> normal form. Only words that are never given names: a title is removed from a
# forename wherever it stands ("MR JOHN", "JOHN SMITH (MR)").
TITLES: dict[str, str] = {
    "MR": "MR", "MISTER": "MR", "MRS": "MRS", "MISSUS": "MRS", "MS": "MS", "MISS": "MISS",
    "MX": "MX", "MASTER": "MASTER", "MSTR": "MASTER",
    "DR": "DR", "DOCTOR": "DR", "PROF": "PROF", "PROFESSOR": "PROF",
    "REV": "REV", "REVD": "REV", "REVEREND": "REV", "FR": "FR", "FATHER": "FR",
    "CANON": "CANON", "RABBI": "RABBI", "PASTOR": "PASTOR",
    "SIR": "SIR", "DAME": "DAME", "LADY": "LADY", "LORD": "LORD",
    "CAPT": "CAPT", "CAPTAIN": "CAPT", "COL": "COL", "COLONEL": "COL", "MAJ": "MAJ",
    "LT": "LT", "SGT": "SGT", "CLLR": "CLLR", "COUNCILLOR": "CLLR", "HON": "HON", "RT": "RT",
}
_TITLE_WORDS = string_list(TITLES)
# The same words for a cheap test on raw text before any list work is done.
_TITLE_PATTERN = r"\b(" + "|".join(sorted(TITLES, key=len, reverse=True)) + r")\b"

NO_LETTERS = "no letters in name"
ONLY_A_TITLE = "a title but no name"


def _fold_case_and_accents(e: str) -> str:
    return f"strip_accents(upper({e}))"


def _strip_markup(e: str) -> str:
    return f"CASE WHEN contains({e}, '<') THEN regexp_replace({e}, '<[^>]*>?', ' ', 'g') ELSE {e} END"


def _fold_special_letters(e: str) -> str:
    swaps = [("ẞ", "SS"), ("ß", "SS"), ("Ø", "O"), ("Ł", "L"), ("Æ", "AE"), ("Œ", "OE"), ("Đ", "D"), ("Þ", "TH")]

    def fold(v: str) -> str:
        out = v
        for old, new in swaps:
            out = f"replace({out}, '{old}', '{new}')"
        return f"CASE WHEN regexp_matches({v}, '[ẞßØŁÆŒĐÞ]') THEN {out} ELSE {v} END"

    return let(e, fold)


def _drop_punctuation(e: str) -> str:
    no_apostrophes = f"replace(replace(replace({e}, '''', ''), '’', ''), '‘', '')"
    spaced = f"regexp_replace({no_apostrophes}, '[^A-Z-]+', ' ', 'g')"
    hyphens = let(spaced, lambda v: f"CASE WHEN contains({v}, '-') THEN regexp_replace({v}, ' ?-[ -]*', '-', 'g') ELSE {v} END")
    return f"NULLIF(trim({hyphens}, ' -'), '')"


NAME_STEPS: list[Step] = [_strip_markup, _fold_special_letters, _drop_punctuation]
_PLAIN = "[A-Z]+(?:[ -][A-Z]+)*"
_RARE = "[<ẞßØŁÆŒĐÞ]"  # only names with these need the first two steps


def clean_name_text(raw: str) -> str:
    """The cleaned text of a name (titles still in it), or NULL when no letters are left."""
    f = bind(_fold_case_and_accents(raw))
    rare = let(f, lambda v: apply_steps(v, NAME_STEPS))
    punctuated = f"CASE WHEN regexp_matches({f}, '{_RARE}') THEN {rare} ELSE {_drop_punctuation(f)} END"
    # Full stops are the commonest punctuation in names ('Mrs.', 'J.'): a cheap second try.
    dotless = f"trim(replace({f}, '.', ' '))"
    return bind(
        unless(f"regexp_full_match({f}, '{_PLAIN}')", f, unless(f"regexp_full_match({dotless}, '{_PLAIN}')", dotless, punctuated))
    )


def has_title(text: str) -> str:
    """Does the cleaned text hold a title word?"""
    return f"regexp_matches({text}, {literal(_TITLE_PATTERN)})"


def title_words(text: str) -> str:
    """The list of title words in cleaned text, in normal form (MISTER -> MR)."""
    mapped = case_map("_t", TITLES, "_t")
    return f"list_transform(list_filter(string_split({text}, ' '), lambda _t: list_contains({_TITLE_WORDS}, _t)), lambda _t: {mapped})"


def titles_of(text: str) -> str:
    """The title words of cleaned text as one string ('REV DR'), NULL when there are none."""
    return f"NULLIF(array_to_string({title_words(text)}, ' '), '')"


def without_titles(text: str) -> str:
    """Cleaned text with its title words removed, NULL when nothing else is left."""
    kept = f"list_filter(string_split({text}, ' '), lambda _t: NOT list_contains({_TITLE_WORDS}, _t))"
    return f"NULLIF(array_to_string({kept}, ' '), '')"


def normalise_title(text: str) -> str:
    """A title field: every word in normal form ('Mrs.' -> MRS, 'Revd Dr' -> 'REV DR')."""

    def words(v: str) -> str:
        several = f"array_to_string(list_transform(string_split({v}, ' '), lambda _t: {case_map('_t', TITLES, '_t')}), ' ')"
        usual = "('MR', 'MRS', 'MS', 'MISS', 'DR')"
        return f"CASE WHEN {v} IS NULL OR {v} IN {usual} THEN {v} WHEN contains({v}, ' ') THEN {several} ELSE {case_map(v, TITLES, v)} END"

    return bind(text, words)


def join_surname_prefix(text: str) -> str:
    """'O BRIEN' -> OBRIEN, 'MC DONALD' -> MCDONALD and 'MAC DONALD' -> MACDONALD, as O'BRIEN ->
    OBRIEN and MacDonald -> MACDONALD already are."""
    return bind(
        text,
        lambda v: f"CASE WHEN {v} LIKE 'O %' OR {v} LIKE 'MC %' OR {v} LIKE 'MAC %' "
                  f"THEN regexp_replace({v}, '^(O|MC|MAC) ', '\\1') ELSE {v} END",
    )
