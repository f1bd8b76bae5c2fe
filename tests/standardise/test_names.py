"""Names: cleaning, titles, name parts, nicknames and phonetic keys."""

from __future__ import annotations

import pytest

from matching.ingest.standardise import standardise_value
from matching.ingest.standardise.nicknames import canonical_forename, canonical_map
from matching.ingest.standardise.phonetic import metaphone_key


@pytest.mark.parametrize(
    ("part", "raw", "expected"),
    [
        ("surname", "smith", "SMITH"),
        ("surname", "Brontë", "BRONTE"),
        ("surname", "O'Brien", "OBRIEN"),
        ("surname", "O’Brien", "OBRIEN"),
        ("surname", "O Brien", "OBRIEN"),
        ("surname", "mc donald", "MCDONALD"),
        ("surname", "D'Arcy", "DARCY"),
        ("surname", "Smith - Jones", "SMITH-JONES"),
        ("surname", "SMITH-JONES", "SMITH-JONES"),
        ("surname", "van der Berg", "VAN DER BERG"),
        ("surname", "Straße", "STRASSE"),
        ("surname", "<b>Jones</b>", "JONES"),
        ("forename", "<script>alert(1)</script>", "ALERT"),
        ("forename", "  Mary   Ann ", "MARY ANN"),
        ("forename", "Jean-Paul", "JEAN-PAUL"),
        ("forename", "Łukasz", "LUKASZ"),
        ("forename", "Mr John Paul", "JOHN PAUL"),
        ("forename", "Mrs. Margaret", "MARGARET"),
        ("forename", "Ahmed (Dr)", "AHMED"),
        ("forename", "Rev Canon John", "JOHN"),
        ("surname", "Mac Donald", "MACDONALD"),
        ("surname", "MacDonald", "MACDONALD"),
        ("surname", "Mc Donald", "MCDONALD"),
        ("forename", "Rabbi David", "DAVID"),
        ("forename", "J.P.", "J P"),
        ("title", "Mrs.", "MRS"),
        ("title", "Mrs", "MRS"),
        ("title", "mister", "MR"),
        ("title", "Revd Dr", "REV DR"),
        ("title", "Revd Canon", "REV CANON"),
        ("title", "Sgt Major", "SGT MAJOR"),
        ("full", "Mr John Smith", "JOHN SMITH"),
        ("full", "SMITH, John Paul", "JOHN PAUL SMITH"),
        ("full", "Dr Jane van der Berg", "JANE VAN DER BERG"),
        (None, "Maiden-Name", "MAIDEN-NAME"),
    ],
)
def test_names_are_cleaned(part: str | None, raw: str, expected: str) -> None:
    assert standardise_value("name", raw, part) == (expected, None)


@pytest.mark.parametrize(
    ("part", "raw", "reason"),
    [("surname", "123", "no letters in name"), ("forename", "---", "no letters in name"), ("forename", "Mr", "a title but no name")],
)
def test_a_name_with_nothing_left_is_a_defect(part: str, raw: str, reason: str) -> None:
    assert standardise_value("name", raw, part) == (None, reason)


def test_blank_is_null_without_a_defect() -> None:
    assert standardise_value("name", "   ", "surname") == (None, None)
    assert standardise_value("name", None, "surname") == (None, None)


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [
        ("BOB", "ROBERT"), ("BOBBY", "ROBERT"), ("PEGGY", "MARGARET"), ("BILL", "WILLIAM"), ("BILLY", "WILLIAM"),
        ("LIZ", "ELIZABETH"), ("JIM", "JAMES"), ("SALLY", "SARAH"), ("TED", "EDWARD"), ("KATE", "CATHERINE"),
    ],
)
def test_nicknames_map_to_the_british_formal_name(nickname: str, formal: str) -> None:
    assert canonical_forename(nickname) == formal


@pytest.mark.parametrize("name", ["JOHN", "IAN", "HELEN", "JACK", "HARRY", "ROBERT", "ZEBEDEE"])
def test_formal_names_and_unknown_names_map_to_themselves(name: str) -> None:
    assert canonical_forename(name) == name


def test_the_nickname_map_is_deterministic_and_never_maps_a_name_to_itself() -> None:
    first = canonical_map()
    canonical_map.cache_clear()
    assert canonical_map() == first
    assert all(k != v and k == k.upper() for k, v in first.items())


@pytest.mark.parametrize(
    ("a", "b"),
    [("STEPHEN", "STEVEN"), ("PHILIP", "FILIP"), ("CATHERINE", "KATHRYN"), ("SMITH-JONES", "SMITH JONES"), ("KNIGHT", "NIGHT")],
)
def test_names_that_sound_alike_share_a_phonetic_key(a: str, b: str) -> None:
    assert metaphone_key(a) == metaphone_key(b)


def test_a_phonetic_key_of_nothing_is_none() -> None:
    assert metaphone_key(None) is None
    assert metaphone_key("-") is None
