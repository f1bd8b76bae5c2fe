"""Properties: standardising twice changes nothing, valid values are never rejected, and
every accepted way of writing a value reads back to it."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from matching.ingest.standardise import standardise_values

FAST = settings(max_examples=25, deadline=None)

LETTERS = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x24F, exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)

# NI numbers: HMRC's letter rules.
NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"
ni_numbers = st.builds(
    lambda a, b, digits, suffix: f"{a}{b}{digits:06d}{suffix}",
    st.sampled_from(NI_FIRST), st.sampled_from(NI_SECOND), st.integers(0, 999_999), st.sampled_from("ABCD"),
).filter(lambda n: n[:2] not in {"BG", "GB", "NK", "KN", "NT", "TN", "ZZ"})

# Postcodes: Royal Mail's letter rules for each position.
FIRST, SECOND, THIRD, FOURTH, INWARD = "ABCDEFGHIJKLMNOPRSTUWYZ", "ABCDEFGHKLMNOPQRSTUVWXY", "ABCDEFGHJKPSTUW", "ABEHMNPRVWXY", "ABDEFGHJLNPQRSTUWXYZ"
outwards = st.one_of(
    st.builds(lambda a, n: f"{a}{n}", st.sampled_from(FIRST), st.integers(0, 99)),
    st.builds(lambda a, b, n: f"{a}{b}{n}", st.sampled_from(FIRST), st.sampled_from(SECOND), st.integers(0, 99)),
    st.builds(lambda a, n, c: f"{a}{n}{c}", st.sampled_from(FIRST), st.integers(0, 9), st.sampled_from(THIRD)),
    st.builds(lambda a, b, n, c: f"{a}{b}{n}{c}", st.sampled_from(FIRST), st.sampled_from(SECOND), st.integers(0, 9), st.sampled_from(FOURTH)),
)
postcodes = st.builds(lambda o, n, x, y: f"{o} {n}{x}{y}", outwards, st.integers(0, 9), st.sampled_from(INWARD), st.sampled_from(INWARD))

dates = st.dates(min_value=dt.date(1910, 1, 1), max_value=dt.date(2099, 12, 31))
phones = st.builds(lambda p, rest: f"0{p}{rest:09d}", st.sampled_from("123578"), st.integers(0, 999_999_999))
emails = st.builds(lambda u, d, t: f"{u}@{d}.{t}", st.from_regex(r"[a-z0-9._%+-]{1,12}", fullmatch=True), st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), st.sampled_from(["uk", "com", "gov.uk", "org"]))


def written(date: dt.date) -> list[str]:
    """The date in every form the standardiser accepts (two-digit years only when unambiguous)."""
    forms = [
        date.strftime("%d/%m/%Y"), f"{date.day}/{date.month}/{date.year}", date.strftime("%d-%m-%Y"),
        date.strftime("%d.%m.%Y"), date.strftime("%d%m%Y"), date.isoformat(), f"{date.isoformat()} 00:00:00",
        date.strftime("%d %b %Y"), date.strftime("%d %B %Y"), date.strftime("%d-%b-%Y").upper(),
    ]
    serial = (date - dt.date(1899, 12, 30)).days
    if 10_000 <= serial <= 99_999:  # only five-digit serials are read as dates (from 18 May 1927)
        forms.append(str(serial))  # Excel serial
    today = dt.date.today()
    # not a date of birth: a two-digit year reads as 20yy up to 30 years ahead, else 19yy
    if today.replace(year=today.year - 69, day=1) < date <= today.replace(year=today.year + 29, day=1):
        forms += [date.strftime("%d%m%y"), date.strftime("%d/%m/%y")]
    return forms


@FAST
@given(st.sampled_from(["forename", "surname", "title", "middle", "full", None]), st.lists(LETTERS, min_size=1, max_size=20))
@example("full", ["A0O0A,"])  # found by CI: 'A O A' then read as A + the surname O A
@example("full", ["AO,X0,O ,"])  # given names ending in O, before the surname
def test_names_are_idempotent(part: str | None, raws: list[str]) -> None:
    once = [v for v, _ in standardise_values("name", raws, part) if v is not None]
    assert standardise_values("name", once, part) == [(v, None) for v in once]


def batch(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Lists of values: one query standardises a whole list, which keeps the suite fast."""
    return st.lists(strategy, min_size=1, max_size=25)


@FAST
@given(batch(ni_numbers))
def test_valid_ni_numbers_are_accepted_and_idempotent(nis: list[str]) -> None:
    spaced = [f"{ni[:2]} {ni[2:4]} {ni[4:6]} {ni[6:8]} {ni[8]}".lower() for ni in nis]
    assert standardise_values("ni_number", spaced) == [(ni, None) for ni in nis]
    assert standardise_values("ni_number", nis) == [(ni, None) for ni in nis]


@FAST
@given(batch(postcodes))
def test_valid_postcodes_are_accepted_and_idempotent(pcs: list[str]) -> None:
    assert standardise_values("postcode", [p.replace(" ", "").lower() for p in pcs]) == [(p, None) for p in pcs]
    assert standardise_values("postcode", pcs) == [(p, None) for p in pcs]


@FAST
@given(dates)
def test_a_date_written_in_every_accepted_form_reads_back_to_itself(date: dt.date) -> None:
    forms = written(date)
    assert dict(zip(forms, standardise_values("date", forms, name="date_started"), strict=True)) == {f: (date, None) for f in forms}


@FAST
@given(batch(st.dates(min_value=dt.date.today().replace(year=dt.date.today().year - 119), max_value=dt.date.today())))
def test_no_real_date_of_birth_is_rejected(days: list[dt.date]) -> None:
    assert standardise_values("date", [d.strftime("%d/%m/%Y") for d in days], name="dob") == [(d, None) for d in days]


def as_pounds(pence: int) -> str:
    return ("-" if pence < 0 else "") + f"£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


@FAST
@given(batch(st.integers(-10**11, 10**11)))
def test_pence_written_as_pounds_read_back(amounts: list[int]) -> None:
    expected = [(p, None) for p in amounts]
    assert standardise_values("money_pence", [as_pounds(p) for p in amounts]) == expected
    assert standardise_values("money_pence", [str(p) for p in amounts]) == expected
    assert standardise_values("money_pence", [f"({as_pounds(-abs(p))[2:]})" for p in amounts]) == [(-abs(p), None) for p in amounts]


@FAST
@given(batch(phones))
def test_phone_numbers_are_idempotent_from_any_format(numbers: list[str]) -> None:
    expected = [(n, None) for n in numbers]
    assert standardise_values("phone", numbers) == expected
    assert standardise_values("phone", [f"+44 {n[1:5]} {n[5:]}" for n in numbers]) == expected


@FAST
@given(batch(emails))
def test_emails_are_idempotent(addresses: list[str]) -> None:
    expected = [(e, None) for e in addresses]
    assert standardise_values("email", [e.upper() for e in addresses]) == expected
    assert standardise_values("email", addresses) == expected


@FAST
@given(batch(st.integers(1, 999_999)))
def test_sort_codes_are_idempotent(numbers: list[int]) -> None:
    codes = [f"{n:06d}" for n in numbers]
    assert standardise_values("sort_code", [f"{c[:2]}-{c[2:4]}-{c[4:]}" for c in codes]) == [(c, None) for c in codes]
    assert standardise_values("sort_code", codes) == [(c, None) for c in codes]


@FAST
@given(batch(st.integers(100_000, 99_999_999)))
def test_account_numbers_are_idempotent(numbers: list[int]) -> None:
    padded = [(f"{n:08d}", None) for n in numbers]
    assert standardise_values("account_number", [str(n) for n in numbers]) == padded
    assert standardise_values("account_number", [p for p, _ in padded]) == padded


@FAST
@given(batch(st.integers(1, 999_999_999_999)))
def test_uprns_survive_a_spreadsheet_when_exact(uprns: list[int]) -> None:
    expected = [(u, None) for u in uprns]
    assert standardise_values("uprn", [str(u) for u in uprns]) == expected
    assert standardise_values("uprn", [f"{u}.0" for u in uprns]) == expected
    assert standardise_values("uprn", [f"{str(u)[0]}.{str(u)[1:]}E+{len(str(u)) - 1}" for u in uprns]) == expected


TYPES = ("name", "date", "ni_number", "postcode", "uprn", "money_pence", "sort_code", "account_number", "email", "phone", "code", "flag", "text", "number")


@settings(max_examples=10, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=50))
def test_no_text_crashes_any_standardiser(raws: list[str]) -> None:
    for ftype in TYPES:
        for raw, (value, defect) in zip(raws, standardise_values(ftype, raws), strict=True):
            assert value is None or defect is None
            assert defect is None or raw.strip(" \t\r\n\xa0")
    standardise_values("text", raws, address_line=1)
