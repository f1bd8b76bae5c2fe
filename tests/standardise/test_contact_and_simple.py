"""Email, phone, and the simple types: code, flag, text, number."""

from __future__ import annotations

import pytest

from matching.ingest.standardise import standardise_value


@pytest.mark.parametrize(("raw", "expected"), [("John.Smith@Example.COM", "john.smith@example.com"), ("a@b.co.uk", "a@b.co.uk")])
def test_emails_are_lower_cased(raw: str, expected: str) -> None:
    assert standardise_value("email", raw) == (expected, None)


@pytest.mark.parametrize("raw", ["john@localhost", "a@b@c.com", "john smith@x.com", "@example.com", "john@.com", "john@example."])
def test_invalid_emails(raw: str) -> None:
    assert standardise_value("email", raw) == (None, "not a valid email address")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", "07700900123"), ("+44 7700 900123", "07700900123"), ("0044 7700 900123", "07700900123"),
        ("+44 (0)20 7946 0000", "02079460000"), ("020-7946-0000", "02079460000"), ("(020) 7946 0000", "02079460000"),
        ("447700900123", "07700900123"), ("7700900123", "07700900123"), ("01234 567890 ext 12", "01234567890"),
        ("016977 3456", "0169773456"), ("0800 123456", "0800123456"),
    ],
)
def test_uk_phone_numbers_in_national_form(raw: str, expected: str) -> None:
    assert standardise_value("phone", raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("+1 555 123 4567", "not a UK phone number"), ("0033 1 23 45 67 89", "not a UK phone number"),
     ("12345", "not a valid phone number"), ("07700 90012", "not a valid phone number"), ("none", "not a valid phone number")],
)
def test_invalid_phone_numbers(raw: str, reason: str) -> None:
    assert standardise_value("phone", raw) == (None, reason)


def test_codes_are_upper_cased_and_checked_against_their_values() -> None:
    assert standardise_value("code", "  ab   c") == ("AB C", None)
    assert standardise_value("code", "b", values=("A", "B")) == ("B", None)
    assert standardise_value("code", "z", values=("A", "B")) == (None, "not one of: A, B")
    many = tuple("ABCDEFGHIJ")
    assert standardise_value("code", "z", values=many) == (None, "not one of: A, B, C, D, E, F, G, H, ...")


@pytest.mark.parametrize(("raw", "expected"), [("Y", True), ("yes", True), ("TRUE", True), ("t", True), ("1", True), ("N", False), ("no", False), ("False", False), ("f", False), ("0", False)])
def test_flags(raw: str, expected: bool) -> None:
    assert standardise_value("flag", raw) == (expected, None)


def test_an_unknown_flag_is_a_defect() -> None:
    assert standardise_value("flag", "maybe") == (None, "not a yes/no value")


def test_text_is_kept_as_written_with_whitespace_collapsed() -> None:
    assert standardise_value("text", "Officer  – £25k\tband") == ("Officer – £25k band", None)
    assert standardise_value("text", "x" * 10_000) == ("x" * 10_000, None)
    assert standardise_value("text", "abcdef", max_length=5) == (None, "longer than 5 characters")


@pytest.mark.parametrize(("raw", "expected"), [("37.5", 37.5), ("37,5", 37.5), ("1,234.5", 1234.5), ("1,234", 1234.0), ("-2", -2.0), (".5", 0.5), ("1e3", 1000.0)])
def test_numbers(raw: str, expected: float) -> None:
    assert standardise_value("number", raw) == (expected, None)


@pytest.mark.parametrize("raw", ["nan", "inf", "abc", "1.2.3", "12,34,5"])
def test_invalid_numbers(raw: str) -> None:
    assert standardise_value("number", raw) == (None, "not a number")
