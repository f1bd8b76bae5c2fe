"""Eight-digit dates: ddmmyyyy, or yyyymmdd when the ddmmyyyy reading has no plausible year."""

import datetime as dt

import pytest

from matching.ingest.standardise import standardise_value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01021980", dt.date(1980, 2, 1)),
        ("19800201", dt.date(1980, 2, 1)),
        ("19110816", dt.date(1911, 8, 16)),  # not 19 November 816
        ("22071928", dt.date(1928, 7, 22)),
    ],
)
def test_eight_digit_dates_read_either_way(raw: str, expected: dt.date) -> None:
    assert standardise_value("date", raw, name="dob") == (expected, None)


def test_the_no_end_placeholder_in_eight_digits_is_blank_not_a_defect() -> None:
    assert standardise_value("date", "31129999", name="end_date") == (None, None)
