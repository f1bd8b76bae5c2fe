"""Every planted inconsistency is in the truth and in the files, with the values that make its
rule hold; hard negatives are there and are not flagged; the truth files agree with the data."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from synth_helpers import Exercise, digits, parse_date, parse_pence

from matching.specs import load_spec
from matching.synth.config import FSM_EARNINGS_THRESHOLD_PENCE, JOB_KINDS, JOBS

REF = dt.date(2026, 10, 1)
TAX_YEAR = dt.date(2026, 4, 6)


def _end(text: str) -> dt.date:
    return parse_date(text) or REF


def _overlap(a_start: str, a_end: str, b_start: str, b_end: str) -> bool:
    return parse_date(a_start) <= _end(b_end) and parse_date(b_start) <= _end(a_end)


def _annual_pay(job: dict[str, str]) -> float:
    start = max(parse_date(job["date_started"]), TAX_YEAR)
    days = (_end(job["date_left"]) - start).days + 1
    return parse_pence(job["gross_pay_to_date"]) * 365 / days


def _flag(text: str) -> bool:
    return text.strip().upper() in ("Y", "YES", "TRUE", "1")


def check_rule(job: str, left: dict[str, str], right: dict[str, str], same_person: bool, same_property: bool) -> None:
    """The job's rule, evaluated on the values as written."""
    if job in ("hb-to-payroll", "ctr-to-payroll"):
        assert same_person
        assert _overlap(left["claim_start_date"], left["claim_end_date"], right["date_started"], right["date_left"])
        assert not parse_pence(left["declared_earnings_weekly"])
    elif job in ("hb-to-deceased", "ctr-to-deceased"):
        dod = parse_date(right["date_of_death"])
        assert same_person and parse_date(left["claim_start_date"]) <= dod < _end(left["claim_end_date"])
    elif job == "pensions-to-deceased":
        dod = parse_date(right["date_of_death"])
        assert same_person and parse_date(left["pension_start_date"]) <= dod < _end(left["pension_end_date"])
    elif job in ("blue-badges-to-deceased", "concessionary-travel-to-deceased"):
        dod = parse_date(right["date_of_death"])
        valid_to = parse_date(left["cancelled_date"]) or parse_date(left["expiry_date"])
        assert same_person and dod < valid_to  # still valid after the death, even if issued after it
    elif job == "spd-to-electoral-register":
        assert left["discount_type"] == "SPD" and same_property and not same_person
        assert parse_date(right["registered_date"]) <= _end(left["discount_end_date"])
    elif job == "spd-to-post16":
        assert left["discount_type"] == "SPD" and same_property and not same_person
        dob = parse_date(right["dob"])
        eighteen = dob.replace(year=dob.year + 18) if not (dob.month == 2 and dob.day == 29) else dt.date(dob.year + 18, 2, 28)
        assert parse_date(left["discount_start_date"]) <= eighteen <= _end(left["discount_end_date"])
    elif job == "payroll-to-payroll":
        assert same_person
        assert _overlap(left["date_started"], left["date_left"], right["date_started"], right["date_left"])
    elif job == "payroll-to-creditors":
        same_bank = (digits(left["sort_code"]), digits(left["account_number"]).zfill(8)) == (
            digits(right["sort_code"]), digits(right["account_number"]).zfill(8))
        assert same_property or same_bank or not left["sort_code"]
    elif job == "tenants-to-tenants":
        assert same_person and _flag(left["tenant"]) and _flag(right["tenant"])
        assert not left["tenancy_end_date"] and not right["tenancy_end_date"]
        assert left["tenancy_ref"] != right["tenancy_ref"]
    elif job in ("hb-to-student-loans", "ctr-to-student-loans"):
        assert same_person and right["mode"] == "FT"
        assert _overlap(left["claim_start_date"], left["claim_end_date"], right["course_start_date"], right["course_end_date"])
    elif job == "admissions-to-council-tax":
        assert not same_property
        assert parse_date(right["liable_from_date"]) <= parse_date(left["admission_date"])
    elif job == "admissions-to-electoral-register":
        assert same_person and not same_property
        assert parse_date(right["registered_date"]) <= parse_date(left["admission_date"])
    elif job == "fsm-to-payroll":
        assert same_person
        assert _overlap(left["eligibility_start_date"], left["eligibility_end_date"], right["date_started"], right["date_left"])
        assert _annual_pay(right) > FSM_EARNINGS_THRESHOLD_PENCE - 400  # pay to date is rounded to the penny
    elif job == "duplicate-payments":
        assert left["creditor_ref"] == right["creditor_ref"]
        assert parse_pence(left["invoice_amount"]) == parse_pence(right["invoice_amount"])
    else:  # pragma: no cover
        raise AssertionError(f"no check for {job}")


def _pairs(exercise: Exercise, name: str):
    for row in exercise.truth(name):
        left = exercise.records(row["left_kind"], row["left_body"]).get(row["left_record_id"])
        right = exercise.records(row["right_kind"], row["right_body"]).get(row["right_record_id"])
        le = exercise.entities[(row["left_kind"], row["left_body"], row["left_record_id"])]
        re_ = exercise.entities[(row["right_kind"], row["right_body"], row["right_record_id"])]
        yield row, left, right, le, re_


def test_every_job_has_planted_inconsistencies(exercise: Exercise) -> None:
    assert set(exercise.summary.planted) == set(JOBS)
    counts = Counter(r["job"] for r in exercise.truth("inconsistencies"))
    for job in JOBS:
        assert counts[job] >= exercise.summary.planted[job] > 0, job


def test_inconsistencies_are_in_the_files_with_the_values_that_make_the_rule_hold(exercise: Exercise) -> None:
    checked = Counter()
    for row, left, right, le, re_ in _pairs(exercise, "inconsistencies"):
        assert left is not None and right is not None, row
        assert (row["left_kind"], row["right_kind"]) == JOB_KINDS[row["job"]]
        same_person = le["person_id"] != "" and le["person_id"] == re_["person_id"]
        same_property = le["property_id"] != "" and le["property_id"] == re_["property_id"]
        check_rule(row["job"], left, right, same_person, same_property)
        checked[row["job"]] += 1
    assert set(checked) == set(JOBS)


def test_hard_negatives_are_present_and_never_flagged(exercise: Exercise) -> None:
    flagged = {tuple(r.values()) for r in exercise.truth("inconsistencies")}
    jobs = Counter()
    for row, left, right, _, _ in _pairs(exercise, "hard_negatives"):
        assert left is not None and right is not None, row
        assert row["why"]
        key = tuple(v for k, v in row.items() if k != "why")
        assert key not in flagged
        jobs[row["job"]] += 1
    assert len(jobs) >= len(JOBS) - 2, f"hard negatives only for {sorted(jobs)}"


@pytest.mark.parametrize("why", ["namesakes", "father and son", "twins", "ended before the date of death",
                                 "declared", "not claiming"])
def test_the_kinds_of_look_alike_the_issue_names_are_planted(exercise: Exercise, why: str) -> None:
    assert any(why in r["why"] for r in exercise.truth("hard_negatives"))


def test_entities_cover_every_loadable_record(exercise: Exercise) -> None:
    invalid = {(r["file"], r["record_id"]) for r in exercise.truth("invalid_rows")}
    for f in exercise.manifest["files"]:
        records = exercise.records(f["kind"], f["body"])
        for key in records:
            if (f["file"], key) in invalid:
                assert (f["kind"], f["body"], key) not in exercise.entities
            else:
                assert (f["kind"], f["body"], key) in exercise.entities, (f["file"], key)


def test_a_council_tax_accounts_joint_liable_person_is_in_the_truth(exercise: Exercise) -> None:
    """An application from the account's joint liable person links to a true record of them:
    the truth holds a second person for the account, the one its joint liable name is."""
    people: dict[tuple[str, str, str], list[str]] = {}
    for e in exercise.truth("entities"):
        people.setdefault((e["kind"], e["body"], e["record_id"]), []).append(e["person_id"])
    joint = 0
    for f in exercise.files("council_tax"):
        for key, rec in exercise.records("council_tax", f["body"]).items():
            held = people.get(("council_tax", f["body"], key), [])
            assert len(held) == len(set(held)) <= 2
            if len(held) == 2:
                joint += 1
                assert rec.get("joint_liable_surname", "").strip() or rec.get("joint_liable_forenames", "").strip(), key
    assert joint > 0


def test_invalid_rows_are_exactly_those_blank_in_a_required_field(exercise: Exercise) -> None:
    planted = {(r["file"], int(r["row"])): r for r in exercise.truth("invalid_rows")}
    assert planted, "the exercise plants some invalid rows"
    for f in exercise.manifest["files"]:
        spec = load_spec(f["kind"])
        header, rows = exercise.rows(f["file"])
        from matching.ingest.headers import map_headers

        columns = map_headers(spec, header, f["file"]).columns
        required = [r.name for r in spec.required_fields]
        for n, row in enumerate(rows, start=1):
            blank = [name for name in required if not row[columns[name]].strip()]
            if (f["file"], n) in planted:
                assert blank == [planted[(f["file"], n)]["field"]], (f["file"], n)
            else:
                assert not blank, (f["file"], n, blank)
