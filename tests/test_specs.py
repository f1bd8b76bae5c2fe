"""Data specifications: every kind loads, follows the shared conventions, and a broken file
gets a message that names the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.errors import ConfigError, UserError
from matching.ingest.headers import map_headers, normalise_header
from matching.specs import FIELD_TYPES, configs_dir, list_kinds, load_spec, load_spec_file

# Every dataset kind in docs/DOMAIN.md, and the generic person file.
KINDS = [
    "payroll",
    "pensions",
    "council_tax",
    "council_tax_reduction",
    "housing_benefit",
    "electoral_register",
    "housing_tenants",
    "housing_waiting_list",
    "right_to_buy",
    "blue_badges",
    "concessionary_travel",
    "resident_parking_permits",
    "deceased_persons",
    "student_loans",
    "trade_creditors",
    "trade_creditor_payments",
    "pupils",
    "post16_learners",
    "school_admissions",
    "free_school_meals",
    "person",
]

# The subject's identity fields: name -> (type, name part, address line, matching only).
IDENTITY = {
    "title": ("name", "title", None, False),
    "forenames": ("name", "forename", None, False),
    "middle_names": ("name", "middle", None, False),
    "surname": ("name", "surname", None, False),
    "dob": ("date", None, None, False),
    "ni_number": ("ni_number", None, None, True),
    "address_line_1": ("text", None, 1, False),
    "address_line_2": ("text", None, 2, False),
    "address_line_3": ("text", None, 3, False),
    "address_line_4": ("text", None, 4, False),
    "postcode": ("postcode", None, None, False),
    "uprn": ("uprn", None, None, False),
    "email": ("email", None, None, False),
    "phone": ("phone", None, None, False),
    "sort_code": ("sort_code", None, None, True),
    "account_number": ("account_number", None, None, True),
}

# Fields the match jobs of DOMAIN.md read, with their types.
JOB_FIELDS = {
    "payroll": {"date_started": "date", "date_left": "date", "gross_pay_to_date": "money_pence",
                "hours_per_week": "number", "employer": "text", "sort_code": "sort_code",
                "account_number": "account_number"},
    "pensions": {"pension_start_date": "date", "pension_end_date": "date",
                 "annual_amount": "money_pence", "widow": "flag"},
    "council_tax": {"account_ref": "code", "uprn": "uprn", "discount_type": "code",
                    "discount_start_date": "date", "discount_end_date": "date", "band": "code",
                    "liable_from_date": "date", "liable_to_date": "date"},
    "housing_benefit": {"claim_ref": "code", "claim_start_date": "date", "claim_end_date": "date",
                        "weekly_amount": "money_pence", "declared_earnings_weekly": "money_pence"},
    "council_tax_reduction": {"claim_ref": "code", "claim_start_date": "date",
                              "claim_end_date": "date", "weekly_amount": "money_pence",
                              "declared_earnings_weekly": "money_pence"},
    "electoral_register": {"elector_number": "code", "uprn": "uprn", "registered_date": "date",
                           "dob": "date"},
    "housing_tenants": {"tenancy_ref": "code", "tenancy_start_date": "date",
                        "tenancy_end_date": "date", "landlord": "text", "uprn": "uprn"},
    "housing_waiting_list": {"application_ref": "code", "application_date": "date", "band": "code"},
    "right_to_buy": {"application_ref": "code", "application_date": "date", "tenancy_ref": "code"},
    "blue_badges": {"badge_number": "code", "issue_date": "date", "expiry_date": "date"},
    "concessionary_travel": {"pass_number": "code", "issue_date": "date", "expiry_date": "date"},
    "resident_parking_permits": {"permit_number": "code", "issue_date": "date",
                                 "expiry_date": "date"},
    "deceased_persons": {"date_of_death": "date", "date_registered": "date", "dob": "date",
                         "ni_number": "ni_number"},
    "student_loans": {"student_ref": "code", "course_start_date": "date",
                      "course_end_date": "date", "mode": "code", "institution": "text"},
    "trade_creditors": {"creditor_ref": "code", "creditor_name": "name", "postcode": "postcode",
                        "sort_code": "sort_code", "account_number": "account_number",
                        "vat_number": "code", "company_number": "code"},
    "trade_creditor_payments": {"payment_ref": "code", "creditor_ref": "code",
                                "creditor_name": "name", "invoice_number": "code",
                                "invoice_date": "date", "payment_date": "date",
                                "invoice_amount": "money_pence", "vat_amount": "money_pence"},
    "pupils": {"upn": "code", "dob": "date", "school": "text", "entry_date": "date",
               "leaving_date": "date", "year_group": "code", "fsm_eligible": "flag",
               "parent_forenames": "name", "parent_surname": "name"},
    "post16_learners": {"learner_ref": "code", "dob": "date", "provider": "text",
                        "course_start_date": "date", "course_end_date": "date",
                        "mode": "code", "apprentice": "flag"},
    "school_admissions": {"application_ref": "code", "school": "text", "admission_date": "date",
                          "pupil_forename": "name", "pupil_surname": "name",
                          "pupil_dob": "date", "upn": "code"},
    "free_school_meals": {"fsm_ref": "code", "eligibility_start_date": "date",
                          "eligibility_end_date": "date", "school": "text", "dob": "date",
                          "ni_number": "ni_number", "pupil_forename": "name",
                          "pupil_surname": "name", "pupil_dob": "date", "upn": "code"},
    "person": {"record_ref": "code", **{n: t for n, (t, *_) in IDENTITY.items()
                                        if n not in ("sort_code", "account_number")}},
}

# Columns the ingest pipeline writes next to the fields; a field must not take their names.
RESERVED = {"record_id", "submission_id", "body", "kind"}


@pytest.fixture(params=KINDS)
def spec(request):
    return load_spec(request.param)


def test_every_domain_kind_has_a_specification():
    assert set(KINDS) <= set(list_kinds())


def test_every_specification_file_is_tested():
    assert set(list_kinds()) == set(KINDS), "add the new kind to KINDS (and to JOB_FIELDS)"


def test_the_readme_lists_every_kind():
    readme = (configs_dir() / "datasets" / "README.md").read_text()
    for kind in KINDS:
        assert f"| `{kind}` |" in readme, kind


def test_spec_has_the_top_level_keys(spec):
    assert spec.title and spec.description and spec.held_by
    assert spec.path.name == f"{spec.kind}.toml"


def test_record_key_is_a_required_code(spec):
    key = spec.field(spec.record_key)
    assert key.required, f"{spec.kind}: record key {key.name} must say required = true"
    assert key.type == "code"


def test_every_field_has_aliases(spec):
    for f in spec.fields:
        assert f.aliases, f"{spec.kind}.{f.name} has no aliases"
        assert f.type in FIELD_TYPES


def test_no_header_names_two_fields(spec):
    owner: dict[str, str] = {}
    for f in spec.fields:
        for label in (f.name, *f.aliases):
            norm = normalise_header(label)
            assert owner.setdefault(norm, f.name) == f.name, (
                f"{spec.kind}: {label!r} names {owner[norm]} and {f.name}"
            )


def test_identity_fields_follow_the_conventions(spec):
    for f in spec.fields:
        if f.name not in IDENTITY:
            continue
        ftype, part, line, matching_only = IDENTITY[f.name]
        where = f"{spec.kind}.{f.name}"
        assert f.type == ftype, where
        assert f.part == part, where
        assert f.address_line == line, where
        assert f.matching_only == matching_only, where


def test_only_the_subjects_names_have_a_part_and_only_its_address_has_lines(spec):
    for f in spec.fields:
        if f.part is not None:
            assert f.name in IDENTITY, f"{spec.kind}.{f.name}: only the subject's names take part"
        if f.address_line is not None:
            assert f.name == f"address_line_{f.address_line}", f"{spec.kind}.{f.name}"


def test_bank_details_and_ni_numbers_are_matching_only(spec):
    for f in spec.fields:
        if f.type in ("ni_number", "sort_code", "account_number"):
            assert f.matching_only, f"{spec.kind}.{f.name} must be matching_only"


def test_dates_are_named_as_dates(spec):
    for f in spec.of_type("date"):
        n = f.name
        assert n == "dob" or n.endswith(("_dob", "_date")) or n.startswith("date_"), (
            f"{spec.kind}.{n}: name a date <something>_date or date_<something>"
        )


def test_closed_code_lists_are_upper_case_codes(spec):
    for f in spec.fields:
        if f.values:
            assert f.type == "code", f"{spec.kind}.{f.name}: only codes take values"
            assert all(v == v.upper() for v in f.values)


def test_no_field_takes_a_name_the_pipeline_writes(spec):
    for f in spec.fields:
        assert f.name not in RESERVED and not f.name.startswith("_"), f"{spec.kind}.{f.name}"


@pytest.mark.parametrize("kind", KINDS)
def test_fields_the_match_jobs_need_are_present(kind):
    spec = load_spec(kind)
    for name, ftype in JOB_FIELDS[kind].items():
        assert name in spec.field_names, f"{kind} lacks {name}"
        assert spec.field(name).type == ftype, f"{kind}.{name}"


def test_the_subject_of_children_s_services_kinds():
    for kind in ("pupils", "post16_learners"):
        assert load_spec(kind).field("dob").required, f"{kind}: dob decides who turns 18"
    for kind in ("free_school_meals", "school_admissions"):
        spec = load_spec(kind)
        # The parent/carer is the subject; the child's names are plain name fields, required
        # so that a file whose unprefixed name columns are the child's stops at mapping.
        for name in ("pupil_forename", "pupil_surname"):
            f = spec.field(name)
            assert f.type == "name" and f.part is None and f.required, f"{kind}.{name}"
        parent = {normalise_header(a) for n in ("forenames", "surname") for a in spec.field(n).aliases}
        assert "parentsurname" in parent and "childsurname" not in parent
    assert load_spec("free_school_meals").field("ni_number").matching_only


def test_deceased_persons_need_a_date_of_birth_and_of_death():
    spec = load_spec("deceased_persons")
    assert spec.field("date_of_death").required and spec.field("dob").required


def test_closed_lists_for_the_codes_jobs_test():
    ct = load_spec("council_tax")
    assert {"SPD", "STUDENT", "DISREGARD", "NONE"} <= set(ct.field("discount_type").values)
    assert set("ABCDEFGH") <= set(ct.field("band").values)
    assert set(load_spec("student_loans").field("mode").values) == {"FT", "PT"}


def test_an_unknown_kind_suggests_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'council_tax'"):
        load_spec("council_tx")


# ---------------------------------------------------------------- broken specifications

VALID = """\
kind = "{kind}"
title = "Widgets"
record_key = "widget_ref"

[fields.widget_ref]
type = "code"
required = true
aliases = ["Widget Ref", "Reference"]

[fields.surname]
type = "name"
part = "surname"
aliases = ["Surname", "Last Name"]
"""


def write_spec(tmp_path: Path, text: str, kind: str = "widgets") -> Path:
    path = tmp_path / f"{kind}.toml"
    path.write_text(text.format(kind=kind) if "{kind}" in text else text)
    return path


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    text = VALID.replace("{kind}", "widgets")
    assert old in text
    path = write_spec(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ConfigError) as exc:
        load_spec_file(path)
    return path, str(exc.value)


def test_the_valid_example_loads(tmp_path):
    spec = load_spec_file(write_spec(tmp_path, VALID))
    assert spec.record_key == "widget_ref" and spec.field_names == ("widget_ref", "surname")


def test_unknown_type_names_the_types(tmp_path):
    path, msg = broken(tmp_path, 'type = "name"', 'type = "nmae"')
    assert str(path) in msg
    assert "fields.surname.type" in msg and "'nmae'" in msg
    assert "Fix:" in msg and "postcode" in msg  # the list of types


def test_unknown_setting_says_did_you_mean(tmp_path):
    path, msg = broken(tmp_path, "required = true", "requried = true")
    assert str(path) in msg
    assert "fields.widget_ref.requried" in msg and "unknown setting" in msg
    assert "Fix: did you mean 'required'?" in msg


def test_record_key_that_is_not_a_field(tmp_path):
    path, msg = broken(tmp_path, 'record_key = "widget_ref"', 'record_key = "widget_id"')
    assert str(path) in msg
    assert "record_key" in msg and "'widget_id' is not a field" in msg
    assert "Fix: name one of: widget_ref, surname" in msg


def test_duplicate_alias_after_folding(tmp_path):
    path, msg = broken(tmp_path, '"Last Name"]', '"Last Name", "REFERENCE"]')
    assert str(path) in msg
    assert "fields.surname.aliases" in msg and "'REFERENCE' also names field 'widget_ref'" in msg
    assert "Fix: give each header name to one field only" in msg


def test_alias_equal_to_another_fields_name(tmp_path):
    path, msg = broken(tmp_path, '"Last Name"]', '"Last Name", "Widget_Ref"]')
    assert str(path) in msg and "also names field 'widget_ref'" in msg


def test_a_subject_that_is_not_one_is_named(tmp_path):
    """What one record describes: a person unless the file says otherwise, and only a person,
    a property or a transaction."""
    assert load_spec_file(write_spec(tmp_path, VALID)).subject == "person"
    assert load_spec_file(write_spec(tmp_path, 'subject = "property"\n' + VALID)).subject == "property"
    path = write_spec(tmp_path, 'subject = "people"\n' + VALID)
    with pytest.raises(ConfigError) as exc:
        load_spec_file(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: subject: 'people' is unknown")
    assert "Fix: use person, property or transaction" in msg


def test_kind_not_the_file_name(tmp_path):
    path = write_spec(tmp_path, VALID.replace("{kind}", "gadgets"), kind="widgets")
    with pytest.raises(ConfigError) as exc:
        load_spec_file(path)
    msg = str(exc.value)
    assert str(path) in msg and "kind: 'gadgets' does not match the file name" in msg
    assert "Fix: rename the file to gadgets.toml or set kind = \"widgets\"" in msg


def test_not_toml(tmp_path):
    path = write_spec(tmp_path, VALID.replace("{kind}", "widgets") + "[fields.\n")
    with pytest.raises(ConfigError) as exc:
        load_spec_file(path)
    assert str(path) in str(exc.value) and "not valid TOML" in str(exc.value)


# ---------------------------------------------------------------- real exports map

@pytest.mark.parametrize(
    ("kind", "headers", "expected"),
    [
        # The DfE eligibility check format: the parent's details unprefixed, the child's named.
        ("free_school_meals",
         ["FSM Ref", "Surname", "Forename", "DOB", "NI Number", "Child Surname", "Child Forename",
          "UPN", "Eligibility Start Date", "End Date"],
         {"surname": "Surname", "dob": "DOB", "ni_number": "NI Number",
          "pupil_surname": "Child Surname", "eligibility_end_date": "End Date"}),
        # An individualised learner record (ILR) extract.
        ("post16_learners",
         ["LearnRefNumber", "ULN", "FamilyName", "GivenNames", "DateOfBirth", "NINumber",
          "AddLine1", "Postcode", "LearnStartDate", "LearnPlanEndDate", "LearnActEndDate"],
         {"learner_ref": "LearnRefNumber", "surname": "FamilyName", "forenames": "GivenNames",
          "dob": "DateOfBirth", "course_end_date": "LearnPlanEndDate",
          "actual_end_date": "LearnActEndDate"}),
        # A school census extract: legal names are the pupil's, preferred names kept apart.
        ("pupils",
         ["UPN", "Legal Surname", "Legal Forename", "Preferred Surname", "DOB", "NC Year Actual",
          "FSMeligible", "Parent Surname"],
         {"surname": "Legal Surname", "preferred_surname": "Preferred Surname",
          "year_group": "NC Year Actual", "fsm_eligible": "FSMeligible",
          "parent_surname": "Parent Surname"}),
        ("council_tax",
         ["Account Ref", "Surname", "Property Address 1", "Address 2", "Postcode", "UPRN",
          "Property Ref", "Band", "Discount Type", "Liable From", "Liable To"],
         {"address_line_1": "Property Address 1", "property_ref": "Property Ref",
          "liable_from_date": "Liable From", "liable_to_date": "Liable To"}),
    ],
)
def test_real_export_headers_map_to_the_fields(kind, headers, expected):
    mapping = map_headers(load_spec(kind), headers, "export.csv")
    got = {name: headers[i] for name, i in mapping.columns.items()}
    assert {k: got.get(k) for k in expected} == expected


def test_an_admissions_file_whose_plain_names_are_the_child_s_stops_at_mapping():
    headers = ["Application Ref", "Surname", "Forename", "DOB", "Parent Surname",
               "Parent Forename", "Address 1", "Postcode"]
    with pytest.raises(UserError, match="required column 'pupil_forename'"):
        map_headers(load_spec("school_admissions"), headers, "admissions.csv")


def test_household_must_be_true_or_false(tmp_path):
    path, msg = broken(tmp_path, 'record_key = "widget_ref"', 'record_key = "widget_ref"\nhousehold = "yes"')
    assert str(path) in msg and "household: 'yes' is not true or false" in msg
    assert "Fix: household = true" in msg


def test_household_needs_a_surname_and_an_address(tmp_path):
    path, msg = broken(tmp_path, 'record_key = "widget_ref"', 'record_key = "widget_ref"\nhousehold = true')
    assert str(path) in msg and "household: needs a surname field, address lines and a postcode field" in msg



def test_kinds_and_jobs_list_as_json_for_scripts(run_cli) -> None:
    """A script reads the kinds, one kind's fields and the jobs without parsing a table."""
    import json as json_module

    from matching.jobs.config import list_jobs
    from matching.specs import list_kinds, load_spec

    kinds = json_module.loads(run_cli("kinds", "--json").stdout)
    assert [k["kind"] for k in kinds] == list_kinds()
    payroll = json_module.loads(run_cli("kinds", "payroll", "--json").stdout)
    assert payroll["record_key"] == load_spec("payroll").record_key
    key = next(f for f in payroll["fields"] if f["name"] == payroll["record_key"])
    assert key["required"] is True
    jobs = json_module.loads(run_cli("jobs", "--json").stdout)
    assert [j["job"] for j in jobs] == list_jobs()
    person = next(j for j in jobs if j["job"] == "person-link")
    assert person["review"] is False and person["model"] == "shipped" and 0 < person["threshold"] < 1
