"""datasets.lookups: a side's records take columns from a third kind's records, joined on a
shared key. The admissions jobs look each child up on the school census (pupils, by UPN): the
account at the child's home there is the parent's, though the application gives another
address and shares nothing with the account but a name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from matching.errors import ConfigError
from matching.evaluate import evaluate_run
from matching.ingest import ingest_file
from matching.jobs.config import jobs_dir, load_job, load_job_file
from matching.jobs.run import run_job
from tests.ingest.test_ingest import write_csv
from tests.jobs.test_also_linked import _found, _rows

JOB = "admissions-to-council-tax"
UPN = "L123456789012"
# 1,000 neighbours' accounts, so that a name is as rare here as among a council's accounts.
NEIGHBOURS = list(enumerate((f, s) for f in ("Alan", "Beth", "Carl", "Dina", "Evan", "Faye", "Gus", "Hana", "Ivor", "Jill", "Karl",
                                              "Lena", "Milo", "Nina", "Otto", "Pia", "Rhys", "Sian", "Theo", "Una", "Vic",
                                              "Wyn", "Yara", "Zak", "Abel")
                            for s in ("Archer", "Baxter", "Cooper", "Dawson", "Ellis", "Foster", "Grant", "Hughes", "Irwin",
                                      "Jarvis", "Keane", "Lyons", "Mercer", "Nolan", "Osborne", "Pryce", "Quinn", "Reeve",
                                      "Slater", "Tanner", "Upton", "Vance", "Walsh", "Yates", "Abbott", "Bishop", "Carver",
                                      "Doyle", "Elton", "Fisher", "Gough", "Hardy", "Ingram", "Joyce", "Kemp", "Lister",
                                      "Moss", "Nash", "Owen", "Parry")))

APPLICATIONS = (
    ["application_ref", "forenames", "surname", "relationship", "address_line_1", "postcode", "phone", "pupil_forename",
     "pupil_surname", "pupil_dob", "upn", "school", "application_date", "admission_date"],
    [
        # Applies from a friend's address near the school; her daughter's school has her at home.
        ["APP4", "Priya", "Lomax", "Mother", "3 Theta Road", "KT8 9LB", "", "Ella", "Lomax", "2015-04-02", UPN,
         "Beta Secondary", "2026-01-10", "2026-09-01"],
        # A reception place (no census record); her home account holds no phone, but her entry on
        # the register there holds the one she gives.
        ["APP5", "Rosa", "Marsh", "Mother", "2 Mu Road", "KT1 2LB", "07700900123", "Noah", "Marsh", "2022-05-06", "",
         "Alpha Primary", "2026-01-11", "2026-09-01"],
        # A reception place (no UPN given): her son is in a school's nursery, on the census at home.
        ["APP6", "Gwen", "Harrow", "Mother", "4 Pi Road", "KT2 5LB", "", "Owen", "Harrow", "2021-10-03", "",
         "Alpha Primary", "2026-01-12", "2026-09-01"],
        # No UPN either, and the census spells her daughter's name another way: a pupil at home
        # was born on the child's date of birth.
        ["APP7", "Jade", "Quill", "Mother", "5 Rho Road", "KT3 6LB", "", "Harpreet", "Quill", "2021-03-24", "",
         "Alpha Primary", "2026-01-13", "2026-09-01"],
    ],
)
HOME, NAMESAKES = "100000000014", "100000000009"
QUILLS, PARTNER, NAMESAKE_QUILL = "100000000021", "100000000022", "100000000023"
ACCOUNTS = (
    ["account_ref", "forenames", "surname", "address_line_1", "postcode", "uprn", "liable_from_date"],
    [
        ["CT6", "Priya", "Lomax", "6 Iota Road", "KT7 8JH", "", "2018-04-01"],  # her home
        ["CT7", "Priya", "Lomax", "11 Kappa Road", "KT9 1NP", "", "2016-01-01"],  # a namesake's
        ["CT8", "Rosa", "Marsh", "14 Nu Road", "KT6 4NB", HOME, "2019-06-01"],  # her home
        ["CT10", "Rosa", "Marsh", "9 Xi Road", "KT5 8RB", NAMESAKES, "2017-02-01"],  # a namesake's
        ["CT11", "Gwen", "Harrow", "7 Sigma Road", "KT4 2QQ", "", "2020-03-01"],  # her home
        ["CT12", "Gwen", "Harrow", "8 Tau Road", "KT9 3QQ", "", "2014-05-01"],  # a namesake's
        ["CT13", "Jade", "Quill", "3 Upsilon Road", "KT5 1QQ", QUILLS, "2019-08-01"],  # her home
        ["CT14", "Jade", "Quill", "2 Phi Road", "KT6 1QQ", NAMESAKE_QUILL, "2012-08-01"],  # a namesake's
        ["CT15", "Joel", "Quill", "6 Chi Road", "KT7 1QQ", PARTNER, "2021-01-01"],  # her daughters' father's
        *([f"CT9{i:03d}", forename, surname, f"{i} Epsilon Road", "KT4 5EF", "", "2015-01-01"] for i, (forename, surname) in NEIGHBOURS),
    ],
)
ELECTORS = (
    ["elector_number", "forenames", "surname", "address_line_1", "postcode", "uprn", "phone"],
    [
        ["KN1-1/0", "Rosa", "Marsh", "14 Nu Road", "KT6 4NB", HOME, "07700900123"],
        ["KN1-2/0", "Tom", "Marsh", "14 Nu Road", "KT6 4NB", HOME, "07700900456"],
        ["KX1-1/0", "Rosa", "Marsh", "9 Xi Road", "KT5 8RB", NAMESAKES, "07700900999"],
    ],
)
PUPILS = ["upn", "forenames", "surname", "dob", "address_line_1", "postcode", "entry_date"]
# Kingston's census has Ella at home; Richmond's still holds her from her first school, at the
# family's old address. A Kingston application reads Kingston's census only.
PUPILS = [*PUPILS, "uprn"]
CENSUS = {
    "kingston": [
        [UPN, "Ella", "Lomax", "2015-04-02", "6 Iota Road", "KT7 8JH", "2022-09-01", ""],
        # Another pupil of Ella's name and date of birth: APP4's UPN finds Ella, never her.
        ["M123456789012", "Ella", "Lomax", "2015-04-02", "12 Omega Road", "KT2 9ZZ", "2025-09-01", ""],
        # Owen's school mistyped the postcode: the same house on the same street, a character out.
        ["N123456789012", "Owen", "Harrow", "2021-10-03", "7 Sigma Road", "KT4 2QP", "2025-09-01", ""],
        ["P123456789012", "Haepreet", "Quill", "2021-03-24", "3 Upsilon Road", "KT5 1QQ", "2025-09-01", QUILLS],
        # Her twin sister lives with their father: he is not the parent who applied.
        ["Q123456789012", "Amrit", "Quill", "2021-03-24", "6 Chi Road", "KT7 1QQ", "2025-09-01", PARTNER],
        # The namesake's son, born another day.
        ["S123456789012", "Rory", "Quill", "2016-01-09", "2 Phi Road", "KT6 1QQ", "2025-09-01", NAMESAKE_QUILL],
    ],
    "richmond": [[UPN, "Ella", "Lomax", "2015-04-02", "12 Lambda Road", "KT2 3QR", "2019-09-01", ""]],
}


# Two more applications without a census home: Ella's name and date of birth are two pupils'
# (neither is taken), and Owen's is given with a UPN this census lacks (he is at another
# council's school: the name is not looked up).
UNFOUND = [
    ["APP8", "Priya", "Lomax", "Mother", "3 Theta Road", "KT8 9LB", "", "Ella", "Lomax", "2015-04-02", "",
     "Beta Secondary", "2026-01-10", "2026-09-01"],
    ["APP9", "Gwen", "Harrow", "Mother", "4 Pi Road", "KT2 5LB", "", "Owen", "Harrow", "2021-10-03", "R999999999999",
     "Alpha Primary", "2026-01-12", "2026-09-01"],
]


JOINT = ["joint_liable_forenames", "joint_liable_surname"]


def _workspace(tmp_path: Path, census: tuple[str, ...] = ("kingston", "richmond"), register: bool = True,
               electors: list[list[str]] | None = None, applications: list[list[str]] | None = None,
               accounts: list[list[str]] | None = None, pupils: list[list[str]] | None = None) -> Path:
    """The applications (``applications`` more), the accounts (``accounts`` more, with a joint
    liable person's names last) and the register (Kingston's: ``electors`` more), and the
    census of the bodies named (Kingston's: ``pupils`` more)."""
    ws = tmp_path / "ws"
    files = (("school_admissions", (APPLICATIONS[0], APPLICATIONS[1] + (applications or []))),
             ("council_tax", (ACCOUNTS[0] + JOINT, [[*r, "", ""] for r in ACCOUNTS[1]] + (accounts or []))))
    if register:
        files += (("electoral_register", (ELECTORS[0], ELECTORS[1] + (electors or []))),)
    for kind, (header, rows) in files:
        ingest_file(kind, write_csv(tmp_path / f"{kind}.csv", header, rows), body="kingston", workspace=ws)
    for body in census:
        rows = CENSUS[body] + (pupils or [] if body == "kingston" else [])
        ingest_file("pupils", write_csv(tmp_path / f"pupils-{body}.csv", PUPILS, rows), body=body, workspace=ws)
    return ws


def test_the_account_at_the_childs_home_on_the_census_is_found(tmp_path: Path) -> None:
    run = run_job(JOB, workspace=_workspace(tmp_path))
    assert _found(run.path, "inconsistencies.parquet") == {("APP4", "CT6"), ("APP5", "CT8"), ("APP6", "CT11"), ("APP7", "CT13")}
    links = {r["right_record_id"]: r for r in _rows(run.path / "pairs.parquet") if r["left_record_id"] == "APP4"}
    assert links["CT6"]["gamma_census_home"] == 1 and links["CT6"]["match_probability"] >= load_job(JOB).threshold
    assert "CT7" not in links or links["CT7"]["match_probability"] < 0.5  # the census puts the child elsewhere
    row = next(r for r in _rows(run.path / "inconsistencies.parquet") if r["left_record_id"] == "APP4")
    assert row["explanation"].endswith("The child's school census record gives a home address of 6 IOTA ROAD, KT7 8JH.")
    assert run.notes == []
    manifest = json.loads((run.path / "manifest.json").read_text())
    looked_up = [i for i in manifest["inputs"] if i["side"] == "lookup"]
    assert sorted((i["kind"], i["body"], i["prefix"]) for i in looked_up) == [
        ("electoral_register", "kingston", "electors_"), ("pupils", "kingston", "census_"), ("pupils", "kingston", "pupils_"),
        ("pupils", "richmond", "census_"), ("pupils", "richmond", "pupils_")]
    assert {i["side"] for i in manifest["inputs"]} == {"left", "right", "lookup"}


def test_an_application_without_a_upn_finds_its_child_on_the_census_by_name_and_date_of_birth(tmp_path: Path) -> None:
    """A reception place gives no UPN: the census lookup's second key (the child's forename,
    surname and date of birth) finds Owen at home. A UPN, when given, finds the child it names,
    never another pupil of the same name and date of birth (a later entry at another address);
    a name and date of birth two pupils share finds neither; and a UPN the census lacks is not
    replaced by a name."""
    from matching.linkage.inputs import load_records, select_inputs
    from matching.workspace import Workspace

    ws = _workspace(tmp_path, census=("kingston",), applications=UNFOUND)
    con = duckdb.connect()
    load_records(con, select_inputs(Workspace.at(ws), load_job(JOB)))
    homes = dict(con.execute("SELECT record_id, census_address_single FROM left_records").fetchall())
    assert homes == {"APP4": "6 IOTA ROAD", "APP5": None, "APP6": "7 SIGMA ROAD", "APP7": None, "APP8": None, "APP9": None}
    (tmp_path / "without").mkdir()
    run = run_job(JOB, workspace=_workspace(tmp_path / "without", census=("kingston",)))
    links = {r["right_record_id"]: r for r in _rows(run.path / "pairs.parquet") if r["left_record_id"] == "APP6"}
    assert links["CT11"]["gamma_census_home"] == 1
    assert "CT12" not in links or links["CT12"]["match_probability"] < 0.5  # the census puts the child elsewhere
    row = next(r for r in _rows(run.path / "inconsistencies.parquet") if r["left_record_id"] == "APP6")
    assert row["right_record_id"] == "CT11"
    assert row["explanation"].endswith("The child's school census record gives a home address of 7 SIGMA ROAD, KT4 2QP.")


def test_a_pupil_at_the_property_born_on_the_childs_date_of_birth_finds_the_home(tmp_path: Path) -> None:
    """The census spells Jade Quill's daughter another way, so the lookup by name finds no
    record; but a pupil at her home (by UPRN) was born on the child's date of birth. Her
    namesake's home lists no such pupil. Her twin lives with their father, alone liable at his
    home: he is not the parent who applied (another first name), so it says nothing there."""
    run = run_job(JOB, workspace=_workspace(tmp_path), threshold=1e-9)  # every pair scored, to see each level
    links = {r["right_record_id"]: r for r in _rows(run.path / "pairs.parquet") if r["left_record_id"] == "APP7"}
    assert links["CT13"]["gamma_census_child"] == 1 and links["CT13"]["gamma_census_home"] == -1
    assert links["CT13"]["match_probability"] >= load_job(JOB).threshold
    assert links["CT14"]["gamma_census_child"] == 0 and links["CT14"]["match_probability"] < 0.5
    assert links["CT15"]["gamma_census_child"] == -1 and links["CT15"]["match_probability"] < 0.5
    rows = [r for r in _rows(run.path / "inconsistencies.parquet") if r["left_record_id"] == "APP7"]
    row = next(r for r in rows if r["right_record_id"] == "CT13")
    assert row["explanation"].endswith("The school census lists a pupil at that property born on the child's date of birth.")
    assert all("The school census lists" not in r["explanation"] for r in rows if r["right_record_id"] != "CT13")


def test_a_joint_liable_parent_with_the_name_boxes_swapped_is_found(tmp_path: Path) -> None:
    """Ada Warholme is the joint liable person on Vincent Mellow's account, at her son's home on
    the census; her application gives "Warholme" as her forename and "Ada" as her surname."""
    app = ["APP10", "Warholme", "Ada", "Mother", "12 Omicron Road", "KT2 7LB", "", "Leon", "Mellow", "2014-09-05",
           "H123456789012", "Beta Secondary", "2026-01-15", "2026-09-01"]
    account = ["CT16", "Vincent", "Mellow", "6 Psi Road", "KT8 2QQ", "", "2017-03-01", "Ada", "Warholme"]
    pupil = ["H123456789012", "Leon", "Mellow", "2014-09-05", "6 Psi Road", "KT8 2QQ", "2021-09-01", ""]
    run = run_job(JOB, workspace=_workspace(tmp_path, census=("kingston",), applications=[app], accounts=[account], pupils=[pupil]))
    (link,) = [r for r in _rows(run.path / "pairs.parquet") if r["left_record_id"] == "APP10"]
    labels = {c.name: c.levels for c in load_job(JOB).comparisons}
    assert link["right_record_id"] == "CT16"
    for name in ("forename", "surname"):  # the swapped level (levels count down from the first non-null one)
        level = [lv["label"] for lv in labels[name] if not lv.get("null")]
        assert level[len(level) - 1 - link[f"gamma_{name}"]] == "forename and surname swapped"
    assert ("APP10", "CT16") in _found(run.path, "inconsistencies.parquet")


@pytest.mark.parametrize("census", [(), ("richmond",)])
def test_without_its_own_councils_census_a_name_alone_finds_neither_and_the_run_says_why(tmp_path: Path, census: tuple[str, ...]) -> None:
    """No census, or only another council's: Richmond's census is never read for Kingston's
    application (it would be shown without Richmond's declaration or audit trail)."""
    run = run_job(JOB, workspace=_workspace(tmp_path, census=census))
    assert {left for left, _ in _found(run.path, "inconsistencies.parquet")} == {"APP5"}  # APP4, APP6 and APP7 are not found
    assert all(r["gamma_census_home"] == -1 and r["gamma_census_child"] == -1 for r in _rows(run.path / "pairs.parquet"))
    (note,) = run.notes  # one note for both lookups of the census: one fix
    assert note.startswith("'admissions-to-council-tax' looks each school_admissions record up in its own body's pupils "
                           "(by upn, else pupil_dob, pupil_forename and pupil_surname), and each council_tax record (by uprn), "
                           "which kingston has not submitted: for its records census_uprn, census_postcode")
    assert "census_address_single, pupils_dob are missing" in note
    assert "Fix: matching ingest pupils FILE --body kingston, then run the job again." in note
    assert json.loads((run.path / "manifest.json").read_text())["notes"] == [note]


def test_a_census_ingested_without_a_column_is_named_and_never_filled_from_the_application(tmp_path: Path) -> None:
    """A census file written by an earlier version, without address_single: the explanation
    leaves the census address out (it must never take the application's own, of the same
    name), and the run says which file to ingest again."""
    ws = _workspace(tmp_path, census=("kingston",))
    (census,) = ws.glob("datasets/pupils/kingston/*.parquet")
    old = tmp_path / "old.parquet"
    duckdb.connect().execute(f"COPY (SELECT * EXCLUDE (address_single) FROM read_parquet('{census}')) TO '{old}' (FORMAT parquet)")
    old.replace(census)
    run = run_job(JOB, workspace=ws)
    assert ("APP4", "CT6") in _found(run.path, "inconsistencies.parquet")  # the postcode and house number still speak
    row = next(r for r in _rows(run.path / "inconsistencies.parquet") if r["left_record_id"] == "APP4")
    assert "census" not in row["explanation"] and "THETA" in row["explanation"]
    (note,) = run.notes
    assert note.startswith("pupils from kingston (") and "was ingested without address_single, which 'admissions-to-council-tax' looks up" in note
    assert "Fix: ingest the file again (matching ingest pupils FILE --body kingston --force)." in note


@pytest.mark.parametrize("register", [True, False])
def test_an_elector_at_the_accounts_property_with_the_applications_phone_finds_the_home(tmp_path: Path, register: bool) -> None:
    """A list lookup (list = true): every phone and email of those registered to vote at the
    account's UPRN. Rosa Marsh's phone is on her register entry at home, not on her account,
    and her namesake's household has another: with the register the home is found; without
    it, a name alone finds neither, and the run says which file to ingest."""
    run = run_job(JOB, workspace=_workspace(tmp_path, register=register))
    found = {right for left, right in _found(run.path, "inconsistencies.parquet") if left == "APP5"}
    links = {r["right_record_id"]: r for r in _rows(run.path / "pairs.parquet") if r["left_record_id"] == "APP5"}
    if register:
        assert found == {"CT8"} and links["CT8"]["gamma_home_contact"] == 1
        assert "CT10" not in links or links["CT10"]["match_probability"] < 0.5  # its electors hold another phone
        assert run.notes == []
    else:
        assert found == set()
        (note,) = run.notes
        assert note.startswith("'admissions-to-council-tax' looks each council_tax record up in its own body's electoral_register "
                               "(by uprn), which kingston has not submitted: for its records electors_email, electors_phone are missing")


def test_a_list_lookup_holds_each_distinct_value_once_in_order(tmp_path: Path) -> None:
    """The same inputs give the same lists: sorted, each value once, NULL where no one holds one."""
    from matching.linkage.inputs import load_records, select_inputs
    from matching.workspace import Workspace

    ws = _workspace(tmp_path)
    job = load_job(JOB)
    con = duckdb.connect()
    load_records(con, select_inputs(Workspace.at(ws), job))
    lists = dict(con.execute("SELECT record_id, electors_phone FROM right_records WHERE record_id IN ('CT8', 'CT10', 'CT6')").fetchall())
    assert lists == {"CT8": ["07700900123", "07700900456"], "CT10": ["07700900999"], "CT6": None}


def test_evaluate_reads_the_lookup_for_blocking_recall(tmp_path: Path) -> None:
    """The run's lookup files are read again, so a blocking rule on a looked-up column counts."""
    ws = _workspace(tmp_path)
    run = run_job(JOB, workspace=ws)
    truth = tmp_path / "truth"
    truth.mkdir()
    write_csv(truth / "inconsistencies.csv", ["job", "left_kind", "left_body", "left_record_id", "right_kind", "right_body", "right_record_id"],
              [[JOB, "school_admissions", "kingston", "APP4", "council_tax", "kingston", "CT6"]])
    write_csv(truth / "entities.csv", ["kind", "body", "record_id", "person_id", "property_id"],
              [["school_admissions", "kingston", "APP4", "P4", ""], ["council_tax", "kingston", "CT6", "P4", ""]])
    result = evaluate_run(run.path, tmp_path)
    assert result["inconsistencies"]["recall"] == 1.0
    by_rule = result["blocking"]["by_rule"]
    assert by_rule["l.census_postcode = r.postcode AND l.census_address_number = r.address_number"] == 1
    assert result["blocking"]["recall"] == 1.0


LOOKUP = re.compile(r"\[\[datasets\.lookups\]\]\n(?:[a-z_]+ = .*\n)+")
ON = 'on = ["upn", { pupil_forename = "forename", pupil_surname = "surname", pupil_dob = "dob" }]'


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "pupils"', 'kind = "pupil"'), "datasets.lookups[0].kind: unknown dataset kind 'pupil'\n  Fix: did you mean 'pupils'?"),
        ((ON, 'on = "uln"'), "datasets.lookups[0].on: 'uln' is not a key of pupils (its record key, an NI number or a UPRN) "
                             "that school_admissions also has\n  Fix: on = \"upn\""),
        ((ON, 'on = "postcode"'), "datasets.lookups[0].on: 'postcode' is not a key of pupils"),
        ((ON, 'on = "body"'), "datasets.lookups[0].on: 'body' is not a key of pupils"),
        ((ON + "\n", ''), "datasets.lookups[0].on: missing\n  Fix: on = \"upn\""),
        ((ON, "on = []"), "datasets.lookups[0].on: is an empty list"),
        ((ON, "on = 7"), "datasets.lookups[0].on: 7 is not a column name or a table of columns"),
        # A table key names a person (date of birth, surname, forename), never a shared attribute.
        ((ON, 'on = { postcode = "postcode", address_number = "address_number" }'),
         "datasets.lookups[0].on: {'postcode': 'postcode', 'address_number': 'address_number'} does not name a person"),
        ((ON, 'on = { pupil_forename = "forename", pupil_surname = "surname" }'), "does not name a person"),
        ((ON, 'on = { pupil_forname = "forename", pupil_surname = "surname", pupil_dob = "dob" }'),
         "datasets.lookups[0].on: school_admissions has no column 'pupil_forname'"),
        ((ON, 'on = { pupil_forename = "forename", pupil_surname = "surname", pupil_dob = "dob", school = "entry_date" }'),
         "datasets.lookups[0].on: school_admissions's school (VARCHAR) and pupils's entry_date (DATE) are not of one type"),
        ((ON, 'on = ["upn", "upn"]'), "datasets.lookups[0].on: gives 'upn' twice"),
        (('latest_by = "entry_date"', 'list = true'),
         "datasets.lookups[0].list: takes every record with a key, but a person's name and date of birth takes one person's record"),
        (('side = "left"\n', ''), "datasets.lookups[0].side: missing\n  Fix: side = \"left\" (school_admissions) or side = \"right\" (council_tax)"),
        (('"address_single"]', '"address_singel"]'), "datasets.lookups[0].columns: pupils has no column 'address_singel'\n  Fix: did you mean 'address_single'?"),
        (('prefix = "census_"', 'prefix = "census"'), "datasets.lookups[0].prefix: 'census' is not a prefix"),
        (('columns = ["uprn", "postcode", "address_number", "address_flat", "address_street", "address_single"]', 'columns = ["forename"]'), ""),
        (('side = "left"', 'side = "middle"'), "datasets.lookups[0].side: 'middle' is not left or right\n  Fix: side = \"left\" (school_admissions) or side = \"right\" (council_tax)"),
        (('latest_by = "entry_date"', 'latest_by = "school"'), "datasets.lookups[0].latest_by: 'school' is not a date column of pupils\n  Fix: name one of dob, entry_date, leaving_date"),
        (('latest_by = "entry_date"', 'latest_by = "entry_date"\nkeys = "upn"'), "datasets.lookups[0].keys: unknown setting"),
        (('latest_by = "entry_date"', 'latest_by = "entry_date"\nlist = true'),
         "datasets.lookups[0].latest_by: takes one record of several, but list = true takes them all\n  Fix: remove one of them"),
        (('latest_by = "entry_date"', 'list = "yes"'), "datasets.lookups[0].list: 'yes' is not true or false"),
    ],
)
def test_a_broken_lookup_names_the_file_the_key_and_the_fix(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = (jobs_dir() / f"{JOB}.toml").read_text()
    lookup = LOOKUP.search(text)
    assert lookup and change[0] in lookup.group(0)
    broken = text.replace(lookup.group(0), lookup.group(0).replace(*change))
    if not message:  # a looked-up column named as one the side already has
        broken = broken.replace('prefix = "census_"', 'prefix = "pupil_"')
        message = "datasets.lookups[0].prefix: pupil_forename is already a column of the left records\n  Fix: choose another prefix"
    path = tmp_path / "my-job.toml"
    path.write_text(broken)
    with pytest.raises(ConfigError) as err:
        load_job_file(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_a_rule_may_read_looked_up_columns_but_not_unknown_ones(tmp_path: Path) -> None:
    text = (jobs_dir() / f"{JOB}.toml").read_text()
    path = tmp_path / "my-job.toml"
    path.write_text(text.replace("{l.census_postcode}", "{l.census_postcode} {l.census_school}"))
    with pytest.raises(ConfigError, match="census_school"):
        load_job_file(path)


def test_jobs_lists_what_a_job_looks_up(run_cli) -> None:
    """An officer sees which further kind a job reads, so as to ingest it too."""
    jobs = {j["job"]: j for j in json.loads(run_cli("jobs", "--json").stdout)}
    assert jobs[JOB]["lookups"] == [
        {"side": "left", "kind": "pupils", "on": ["upn", {"pupil_dob": "dob", "pupil_forename": "forename", "pupil_surname": "surname"}]},
        {"side": "right", "kind": "electoral_register", "on": "uprn"},
        {"side": "right", "kind": "pupils", "on": "uprn"}]
    assert jobs["hb-to-deceased"]["lookups"] == []
    listed = subprocess.run([sys.executable, "-m", "matching", "jobs"], capture_output=True, text=True, check=True,
                            env=os.environ | {"COLUMNS": "400"}).stdout  # wide enough for no cell to wrap
    row = next(line for line in listed.splitlines() if f" {JOB} " in line)
    assert ("school_admissions ↔ council_tax, looking up pupils by upn, else pupil_dob, pupil_forename and pupil_surname, "
            "looking up electoral_register by uprn, looking up pupils by uprn") in row


def test_two_lookups_may_not_share_a_prefix(tmp_path: Path) -> None:
    text = (jobs_dir() / f"{JOB}.toml").read_text()
    lookup = LOOKUP.search(text)
    assert lookup
    path = tmp_path / "my-job.toml"
    path.write_text(text.replace(lookup.group(0), lookup.group(0) + "\n" + lookup.group(0).replace('"address_single"', '"school"')))
    with pytest.raises(ConfigError, match=r"datasets\.lookups\[1\]\.prefix: another lookup already uses 'census_'"):
        load_job_file(path)
    path.write_text(LOOKUP.sub("", text).replace('right = "council_tax"\n', 'right = "council_tax"\nlookups = []\n'))
    with pytest.raises(ConfigError, match=r"datasets\.lookups: is empty"):
        load_job_file(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # A list compared as one value: refused on load, not at the rule stage after scoring.
        (("elector_holds_contact OR", "r.electors_email = l.email OR"),
         "rule.set_aside_unless: compares r.electors_email, a list (every value a lookup found), as if it were one value.\n"
         "  Fix: list_contains(r.electors_email, value) is true when the list holds the value."),
        # Everyone's emails at a property, printed in an explanation: other people's details.
        (("[ {elector_note}]", "[ {r.electors_email}]"),
         "rule.explanation {r.electors_email}: r.electors_email is a list of other people's details"),
        # Turned into text inside a value: the same details, printed another way.
        (('elector_note = "CASE', 'elector_note = "CAST(r.electors_email AS VARCHAR) || CASE'),
         "rule.values.elector_note: r.electors_email is a list of other people's details (every value a lookup found): "
         "it may only be searched or counted"),
    ],
)
def test_a_looked_up_list_is_searched_never_compared_or_shown(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = (jobs_dir() / f"{JOB}.toml").read_text()
    assert change[0] in text
    path = tmp_path / "my-job.toml"
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError) as err:
        load_job_file(path)
    assert message in str(err.value)


def test_a_property_with_too_many_electors_gives_no_list(tmp_path: Path) -> None:
    """A care home or a hall of residence: more than MAX_LIST electors at one UPRN give NULL,
    not everyone's contact details."""
    from matching.linkage.inputs import MAX_LIST, load_records, select_inputs
    from matching.workspace import Workspace

    crowd = [[f"KH1-{i}/0", "Resident", f"Number{chr(65 + i % 26)}{chr(65 + i // 26)}", "14 Nu Road", "KT6 4NB", HOME, f"0770090{i:04d}"]
             for i in range(MAX_LIST)]
    ws = _workspace(tmp_path, electors=crowd)  # the home now has MAX_LIST + 2 electors
    con = duckdb.connect()
    load_records(con, select_inputs(Workspace.at(ws), load_job(JOB)))
    lists = dict(con.execute("SELECT record_id, electors_phone FROM right_records WHERE record_id IN ('CT8', 'CT10')").fetchall())
    assert lists == {"CT8": None, "CT10": ["07700900999"]}
