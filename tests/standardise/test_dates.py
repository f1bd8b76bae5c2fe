"""Dates: every accepted form, the two-digit-year pivot, Excel serials and the defects."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.ingest.standardise import standardise_value

FEB_1_1980 = dt.date(1980, 2, 1)


@pytest.mark.parametrize(
    "raw",
    [
        "01/02/1980", "1/2/1980", "01-02-1980", "01.02.1980", "01021980", "1021980", "010280", "01/02/80",
        "1980-02-01", "1980/02/01", "1980-02-01 00:00:00", "1980-02-01T00:00:00Z", "01/02/1980 09:30",
        "1 Feb 1980", "01-FEB-80", "1st February 1980", "29252", "29252.75", "19800201",
    ],
)
def test_every_accepted_form_reads_the_same_date(raw: str) -> None:
    assert standardise_value("date", raw, name="dob") == (FEB_1_1980, None)


def test_a_birth_date_s_two_digit_year_in_the_future_is_last_century() -> None:
    next_year = dt.date.today().year % 100 + 1
    for name in ("dob", "pupil_dob", "partner_dob", "date_of_birth"):
        value, _ = standardise_value("date", f"0101{next_year:02d}", name=name)
        assert value == dt.date(1901 + dt.date.today().year % 100, 1, 1)
    assert standardise_value("date", "010100", name="dob") == (dt.date(2000, 1, 1), None)


def test_another_date_s_two_digit_year_may_be_ahead() -> None:
    """A blue badge expiring 28/02/27 expires in 2027, not 1927 (which hid every badge used
    after its holder's death); a date more than 30 years ahead is last century's."""
    this_year = dt.date.today().year
    for raw in (f"28/02/{(this_year + 1) % 100:02d}", f"2802{(this_year + 1) % 100:02d}", f"28-Feb-{(this_year + 1) % 100:02d}"):
        assert standardise_value("date", raw, name="expiry_date") == (dt.date(this_year + 1, 2, 28), None)
    far = (this_year + 31) % 100
    assert standardise_value("date", f"01/06/{far:02d}", name="tenancy_start_date") == (dt.date(this_year + 31 - 100, 6, 1), None)


def test_excel_serials_skip_the_1900_leap_year_bug() -> None:
    # Excel serial 36526 is 1 January 2000; the epoch 1899-12-30 is right for every serial after 60.
    assert standardise_value("date", "36526") == (dt.date(2000, 1, 1), None)


@pytest.mark.parametrize(
    ("raw", "name", "reason"),
    [
        ("29/02/1900", "date_started", "not a real date"),
        ("31/04/2020", "date_started", "not a real date"),
        ("32011980", "date_started", "not a real date"),
        ("hello", "date_started", "not a recognised date"),
        ("1980", "date_started", "not a recognised date"),
        ("00000", "date_started", "not a recognised date"),
        ("01/01/1700", "date_started", "date out of range"),
        ("01/02/2099", "dob", "date of birth in the future"),
        ("01/01/1850", "dob", "date of birth more than 120 years ago"),
        ("01/01/1850", "date_of_birth", "date of birth more than 120 years ago"),
        ("15/03/2099", "pupil_dob", "date of birth in the future"),
        ("12/12/1890", "partner_dob", "date of birth more than 120 years ago"),
    ],
)
def test_invalid_dates_are_nulled_with_a_reason(raw: str, name: str, reason: str) -> None:
    assert standardise_value("date", raw, name=name) == (None, reason)


def test_29_february_in_a_leap_year_is_real() -> None:
    assert standardise_value("date", "29/02/2000", name="dob") == (dt.date(2000, 2, 29), None)


def test_the_no_end_date_placeholder_is_null_without_a_defect() -> None:
    assert standardise_value("date", "31/12/9999", name="date_left") == (None, None)
    assert standardise_value("date", "31/12/9999", name="dob") == (None, "date of birth in the future")
