"""NI numbers, postcodes and UPRNs."""

from __future__ import annotations

import pytest

from matching.ingest.standardise import standardise_value


@pytest.mark.parametrize("raw", ["AB123456C", "ab 12 34 56 c", "AB-12-34-56-C", " AB123456 C"])
def test_ni_numbers_are_compacted(raw: str) -> None:
    assert standardise_value("ni_number", raw) == ("AB123456C", None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("QQ123456C", "invalid NI number prefix"),
        ("DA123456A", "invalid NI number prefix"),
        ("AO123456A", "invalid NI number prefix"),
        ("GB123456A", "invalid NI number prefix"),
        ("NK123456A", "invalid NI number prefix"),
        ("ZZ123456A", "invalid NI number prefix"),
        ("TN010180M", "temporary NI number"),
        ("TN010180F", "temporary NI number"),
        ("AB123456F", "temporary NI number"),
        ("AB123456", "not in NI number format (AA999999A)"),
        ("A1234567C", "not in NI number format (AA999999A)"),
    ],
)
def test_invalid_ni_numbers_give_their_reason(raw: str, reason: str) -> None:
    assert standardise_value("ni_number", raw) == (None, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sw1a1aa", "SW1A 1AA"), ("SW1A 1AA", "SW1A 1AA"), ("m1 1ae", "M1 1AE"), ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"), ("DN55 1PT", "DN55 1PT"), ("W1A 0AX", "W1A 0AX"), ("EC1A 1BB", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"), ("KT1 OAA", "KT1 0AA"), ("KT1 IAA", "KT1 1AA"), ("kt1  1aa", "KT1 1AA"),
    ],
)
def test_postcodes_are_normalised(raw: str, expected: str) -> None:
    assert standardise_value("postcode", raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("SW1A", "incomplete postcode (outward code only)"),
        ("XX", "not a valid postcode"),
        ("QA1 1AA", "not a valid postcode"),
        ("KT1 1AC", "not a valid postcode"),
        ("123456", "not a valid postcode"),
    ],
)
def test_invalid_postcodes_give_their_reason(raw: str, reason: str) -> None:
    assert standardise_value("postcode", raw) == (None, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100023336956", 100023336956), ("000123", 123), ("100023336956.0", 100023336956),
        ("1.00023336956E+11", 100023336956), ("100,023,336,956", 100023336956), ("1", 1),
    ],
)
def test_uprns_are_repaired_when_nothing_was_lost(raw: str, expected: int) -> None:
    assert standardise_value("uprn", raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1.00023E+11", "UPRN rounded by a spreadsheet (scientific notation)"),
        ("1.0E+11", "UPRN rounded by a spreadsheet (scientific notation)"),
        ("0", "not a valid UPRN (1-12 digits)"),
        ("1234567890123", "not a valid UPRN (1-12 digits)"),
        ("12.5", "not a valid UPRN (1-12 digits)"),
        ("ABC", "not a valid UPRN (1-12 digits)"),
    ],
)
def test_invalid_uprns_give_their_reason(raw: str, reason: str) -> None:
    assert standardise_value("uprn", raw) == (None, reason)
