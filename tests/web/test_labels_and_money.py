"""How field names and amounts read on the match page."""

from __future__ import annotations

import pytest

from matching.web.templatetags.web_tags import humanise, pounds


@pytest.mark.parametrize(("name", "label"), [
    ("dob", "Date of birth"),
    ("pupil_dob", "Pupil date of birth"),
    ("ni_number", "NI number"),
    ("partner_ni_number", "Partner NI number"),
    ("fsm_ref", "FSM ref"),
    ("nass_number", "NASS number"),
    ("school_urn", "School URN"),
    ("uln", "ULN"),
    ("uprn", "UPRN"),
    ("claim_start_date", "Claim start date"),
])
def test_field_names_read_as_words(name, label):
    assert humanise(name) == label


def test_pence_read_as_pounds():
    assert (pounds(123456), pounds(-5), pounds(None)) == ("£1,234.56", "-£0.05", "£0.00")
