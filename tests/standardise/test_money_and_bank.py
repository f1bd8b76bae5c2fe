"""Money in pence, sort codes and account numbers."""

from __future__ import annotations

import pytest

from matching.ingest.standardise import standardise_value


@pytest.mark.parametrize(
    ("raw", "pence"),
    [
        ("12345", 12345), ("-500", -500), ("£123.45", 12345), ("123.45", 12345), ("1,234.56", 123456),
        ("-12.00", -1200), ("(12.00)", -1200), ("12.00-", -1200), ("£-1.50", -150), ("-£1.50", -150),
        ("£12", 1200), ("12.5", 1250), ("£ 1 234.00", 123400), ("0", 0),
    ],
)
def test_amounts_become_pence(raw: str, pence: int) -> None:
    assert standardise_value("money_pence", raw) == (pence, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12.345", "more than two decimal places"),
        ("abc", "not an amount of money"),
        ("12,34.00", "not an amount of money"),
        ("(12.00", "not an amount of money"),
        ("--12", "not an amount of money"),
    ],
)
def test_invalid_amounts_give_their_reason(raw: str, reason: str) -> None:
    assert standardise_value("money_pence", raw) == (None, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12-34-56", "123456"), ("12 34 56", "123456"), ("123456", "123456"), ("40004", "040004"),
        ("12/03/1956", "120356"), ("2/3/1956", "020356"), ("1956-03-12", "120356"),
        ("1956-03-12 00:00:00", "120356"), ("12-Mar-56", "120356"), ("12/03/56", "120356"),
    ],
)
def test_sort_codes_including_those_a_spreadsheet_made_dates(raw: str, expected: str) -> None:
    assert standardise_value("sort_code", raw) == (expected, None)


@pytest.mark.parametrize("raw", ["1234", "1234567", "AB-CD-EF", "000000", "12/03"])
def test_invalid_sort_codes(raw: str) -> None:
    assert standardise_value("sort_code", raw) == (None, "not a sort code (6 digits)")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12345678", "12345678"), ("01234567", "01234567"), ("1234567", "01234567"), ("123456", "00123456"), ("1234 5678", "12345678")],
)
def test_account_numbers_are_eight_digits(raw: str, expected: str) -> None:
    assert standardise_value("account_number", raw) == (expected, None)


@pytest.mark.parametrize("raw", ["12345", "123456789", "1234567A"])
def test_invalid_account_numbers(raw: str) -> None:
    assert standardise_value("account_number", raw) == (None, "not an account number (8 digits)")
