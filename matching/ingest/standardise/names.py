"""Names: upper case, accents folded, markup and punctuation removed, titles recognised.

The cleaning of a name, in order (``NAME_STEPS``):

1. ``_strip_markup``: ``<b>Jones</b>`` is text someone pasted, not a reason to reject a row:
   tags are removed, what is between them kept.
2. ``_fold_case_and_accents``: upper case, then ``strip_accents`` (ZOË -> ZOE).
3. ``_fold_special_letters``: letters that have no accent to strip (ß, Ø, Ł, Æ, Œ, Đ, Þ).
4. ``_drop_punctuation``: apostrophes are removed, not spaced (O'BRIEN -> OBRIEN, D'ARCY ->
   DARCY), because systems record O'Brien as OBRIEN or O'BRIEN and both must compare equal;
   hyphens are kept between letters (SMITH-JONES, JEAN-PAUL); everything else (digits,
   full stops, commas, brackets) becomes a space; whitespace is collapsed.

A name with no letters left (``123``, ``???``) is nulled with the defect 'no letters in name'.

Titles (MR, MRS, DR, REV, ...) are recognised as whole words from ``TITLES``, which also
gives their normal form (MISTER -> MR, REVD -> REV, DOCTOR -> DR).
"""

from __future__ import annotations

from matching.ingest.standardise.sql import Step, apply_steps, case_map, let, literal, string_list

# Word -> normal form. Only words that are never given names: a title is removed from a
# forename wherever it stands ("MR JOHN", "JOHN SMITH (MR)").
TITLES: dict[str, str] = {
    "MR": "MR", "MISTER": "MR", "MRS": "MRS", "MISSUS": "MRS", "MS": "MS", "MISS": "MISS",
    "MX": "MX", "MASTER": "MASTER", "MSTR": "MASTER",
    "DR": "DR", "DOCTOR": "DR", "PROF": "PROF", "PROFESSOR": "PROF",
    "REV": "REV", "REVD": "REV", "REVEREND": "REV", "FR": "FR", "FATHER": "FR",
    "SIR": "SIR", "DAME": "DAME", "LADY": "LADY", "LORD": "LORD",
    "CAPT": "CAPT", "CAPTAIN": "CAPT", "COL": "COL", "COLONEL": "COL", "MAJ": "MAJ",
    "LT": "LT", "SGT": "SGT", "CLLR": "CLLR", "COUNCILLOR": "CLLR", "HON": "HON", "RT": "RT",
}
_TITLE_WORDS = string_list(TITLES)
# The same words for a cheap test on raw text before any list work is done.
_TITLE_PATTERN = r"(?i)\b(" + "|".join(sorted(TITLES, key=len, reverse=True)) + r")\b"

NO_LETTERS = "no letters in name"
ONLY_A_TITLE = "a title but no name"


def _strip_markup(e: str) -> str:
    return f"CASE WHEN contains({e}, '<') THEN regexp_replace({e}, '<[^>]*>?', ' ', 'g') ELSE {e} END"


def _fold_case_and_accents(e: str) -> str:
    return f"strip_accents(upper({e}))"


def _fold_special_letters(e: str) -> str:
    swaps = [("ẞ", "SS"), ("ß", "SS"), ("Ø", "O"), ("Ł", "L"), ("Æ", "AE"), ("Œ", "OE"), ("Đ", "D"), ("Þ", "TH")]

    def fold(v: str) -> str:
        out = v
        for old, new in swaps:
            out = f"replace({out}, '{old}', '{new}')"
        return f"CASE WHEN regexp_matches({v}, '[ẞßØŁÆŒĐÞ]') THEN {out} ELSE {v} END"

    return let(e, fold)


def _drop_punctuation(e: str) -> str:
    def tidy(v: str) -> str:
        no_apostrophes = f"regexp_replace({v}, '[''’‘`´]', '', 'g')"
        spaced = f"regexp_replace({no_apostrophes}, '[^A-Z-]+', ' ', 'g')"
        hyphens = f"regexp_replace({spaced}, ' ?-[ -]*', '-', 'g')"
        # Only names with something other than single-spaced letters pay for the regexes.
        return f"CASE WHEN regexp_matches({v}, '[^A-Z ]|  |^ | $') THEN trim({hyphens}, ' -') ELSE {v} END"

    return f"NULLIF({let(e, tidy)}, '')"


NAME_STEPS: list[Step] = [_strip_markup, _fold_case_and_accents, _fold_special_letters, _drop_punctuation]


def clean_name_text(raw: str) -> str:
    """The cleaned text of a name (titles still in it), or NULL when no letters are left."""
    return apply_steps(raw, NAME_STEPS)


def has_title(raw: str) -> str:
    """Cheap test on the raw text: might it hold a title word?"""
    return f"regexp_matches({raw}, {literal(_TITLE_PATTERN)})"


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
    mapped = case_map("_t", TITLES, "_t")
    return f"array_to_string(list_transform(string_split({text}, ' '), lambda _t: {mapped}), ' ')"


def join_surname_prefix(text: str) -> str:
    """'O BRIEN' -> OBRIEN and 'MC DONALD' -> MCDONALD, as O'BRIEN -> OBRIEN already is."""
    return let(
        text,
        lambda v: f"CASE WHEN {v} LIKE 'O %' OR {v} LIKE 'MC %' THEN regexp_replace({v}, '^(O|MC) ', '\\1') ELSE {v} END",
    )
