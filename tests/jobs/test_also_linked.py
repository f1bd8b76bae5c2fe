"""The admissions jobs on hand-made records: rule.not_if_also_linked (an application whose
parent is registered or liable at the very address it gives is not from an address of
convenience, so a link elsewhere is not kept for review); rule.set_aside_unless (a parent liable
at both addresses, by her own email, is kept); and a register ingested before households were
listed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from matching.evaluate import evaluate_run
from matching.ingest import ingest_file
from matching.jobs.config import jobs_dir
from matching.jobs.run import run_job
from tests.ingest.test_ingest import write_csv

JOB = "admissions-to-electoral-register"
# Neighbours, so that names are as rare here as in a real register or list of accounts.
NEIGHBOURS = list(enumerate((f, s) for f in ("Alan", "Beth", "Carl", "Dina", "Evan", "Faye")
                            for s in ("Archer", "Baxter", "Cooper", "Dawson", "Ellis")))

ADMISSIONS = (
    ["application_ref", "forenames", "surname", "relationship", "address_line_1", "postcode", "email",
     "pupil_forename", "pupil_surname", "pupil_dob", "school", "application_date", "admission_date"],
    [
        # Lives where she says: on the register there, and still at her old address too.
        ["APP1", "Jane", "Woodcock", "Mother", "1 Alpha Road", "KT1 1AA", "jane.woodcock@example.com",
         "Amy", "Woodcock", "2021-03-01", "Alpha Primary", "2026-01-10", "2026-09-01"],
        # Registered only elsewhere: the inconsistency.
        ["APP2", "John", "Fernhill", "Father", "5 Gamma Road", "KT1 3EF", "john.fernhill@example.com",
         "Ben", "Fernhill", "2021-05-01", "Alpha Primary", "2026-01-12", "2026-09-01"],
        # Registered at the address given by name alone, and elsewhere with her email: the link
        # elsewhere is the stronger, so it is kept (she may be registered at both).
        ["APP3", "Nadia", "Quenby", "Mother", "2 Zeta Road", "KT5 6GH", "nadia.quenby@example.com",
         "Sam", "Quenby", "2021-07-01", "Alpha Primary", "2026-01-14", "2026-09-01"],
    ],
)
ELECTORS = (
    ["elector_number", "forenames", "surname", "address_line_1", "postcode", "email", "registered_date"],
    [
        ["KA1-1/0", "Jane", "Woodcock", "1 Alpha Road", "KT1 1AA", "jane.woodcock@example.com", "2024-04-01"],
        ["KB2-7/0", "Jane", "Woodcock", "9 Beta Road", "KT2 2BB", "jane.woodcock@example.com", "2019-06-01"],
        ["KC3-4/0", "John", "Fernhill", "7 Delta Road", "KT3 4DD", "john.fernhill@example.com", "2018-02-01"],
        ["KE5-2/0", "Nadia", "Quenby", "2 Zeta Road", "KT5 6GH", "", "2023-03-01"],
        ["KF6-8/0", "Nadia", "Quenby", "8 Eta Road", "KT6 7HJ", "nadia.quenby@example.com", "2020-05-01"],
        *([f"KD4-{i}/0", forename, surname, f"{i} Epsilon Road", "KT4 5EF", "", "2015-01-01"] for i, (forename, surname) in NEIGHBOURS),
    ],
)

# The school census the jobs look the children up in: none of these children is at school yet.
PUPILS = (
    ["upn", "forenames", "surname", "dob", "address_line_1", "postcode"],
    [["A123456789012", "Tom", "Archer", "2015-02-03", "4 Epsilon Road", "KT4 5EF"]],
)


def _workspace(tmp_path: Path, files: tuple[tuple[str, tuple], ...] | None = None) -> Path:
    """A workspace holding the hand-made files (by default the applications, the register and
    the school census)."""
    ws = tmp_path / "ws"
    default = (("school_admissions", ADMISSIONS), ("electoral_register", ELECTORS), ("pupils", PUPILS))
    for kind, (header, rows) in files or default:
        ingest_file(kind, write_csv(tmp_path / f"{kind}.csv", header, rows), body="kingston", workspace=ws)
    return ws


def _rows(path: Path) -> list[dict]:
    rel = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')")
    return [dict(zip([d[0] for d in rel.description], r, strict=True)) for r in rel.fetchall()]


def _found(run_path: Path, name: str) -> set[tuple[str, str]]:
    return set(duckdb.connect().execute(f"SELECT left_record_id, right_record_id FROM read_parquet('{run_path / name}')").fetchall())


@pytest.mark.parametrize("threshold", [None, 0.3])  # the job's, or a lower --threshold
def test_a_parent_registered_at_the_address_given_is_not_flagged_for_another(tmp_path: Path, threshold: float | None) -> None:
    ws = _workspace(tmp_path)
    run = run_job(JOB, workspace=ws, threshold=threshold)
    assert _found(run.path, "inconsistencies.parquet") == {("APP2", "KC3-4/0"), ("APP3", "KF6-8/0")}
    # The links themselves are all kept: only the inconsistency is set aside, and listed.
    assert {("APP1", "KA1-1/0"), ("APP1", "KB2-7/0"), ("APP2", "KC3-4/0")} <= _found(run.path, "pairs.parquet")
    (aside,) = _rows(run.path / "set_aside.parquet")
    assert (aside["left_record_id"], aside["right_record_id"], aside["also_linked_right_record_id"]) == ("APP1", "KB2-7/0", "KA1-1/0")
    assert aside["also_linked_right_submission_id"] == aside["right_submission_id"]  # the register's file
    assert aside["also_linked_match_probability"] >= aside["match_probability"]
    assert aside["explanation"].startswith("School admission application APP1 for AMY WOODCOCK")
    assert json.loads((run.path / "manifest.json").read_text())["counts"]["inconsistencies_set_aside"] == 1


def test_a_link_at_the_address_given_that_is_weaker_sets_nothing_aside(tmp_path: Path) -> None:
    """Nadia Quenby is on the register at the address given by name alone, and elsewhere with
    the email on her application: the link elsewhere is kept for review."""
    ws = _workspace(tmp_path)
    run = run_job(JOB, workspace=ws, threshold=0.001)  # low enough to link her at the address given (p 0.003)
    links = {(r["left_record_id"], r["right_record_id"]): r["match_probability"] for r in _rows(run.path / "pairs.parquet")}
    assert links[("APP3", "KE5-2/0")] < links[("APP3", "KF6-8/0")]
    assert ("APP3", "KF6-8/0") in _found(run.path, "inconsistencies.parquet")


def test_without_it_the_other_address_is_flagged(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    text = (jobs_dir() / f"{JOB}.toml").read_text()
    without, n = re.subn(r"\n(not_if_also_linked|set_aside_unless) = .*\n", "\n", text)
    assert n == 2
    job = tmp_path / "jobs" / f"{JOB}.toml"  # the same name, so the shipped model serves
    job.parent.mkdir()
    job.write_text(without)
    run = run_job(str(job), workspace=ws)
    assert _found(run.path, "inconsistencies.parquet") == {("APP1", "KB2-7/0"), ("APP2", "KC3-4/0"), ("APP3", "KF6-8/0")}
    assert "inconsistencies_set_aside" not in json.loads((run.path / "manifest.json").read_text())["counts"]
    assert not (run.path / "set_aside.parquet").exists()


def test_a_register_ingested_before_households_is_named(tmp_path: Path) -> None:
    """A register ingested by an earlier version has no household_surnames: the job still runs,
    the household counts as missing, and the officer is told which file to ingest again."""
    ws = _workspace(tmp_path)
    (register,) = ws.glob("datasets/electoral_register/*/*.parquet")
    old = tmp_path / "old.parquet"
    duckdb.connect().execute(f"COPY (SELECT * EXCLUDE (household_surnames) FROM read_parquet('{register}')) TO '{old}' (FORMAT parquet)")
    old.replace(register)
    run = run_job(JOB, workspace=ws)
    (note,) = run.notes
    assert note.startswith("electoral_register from kingston (") and "without household_surnames" in note
    assert "Fix: ingest the file again (matching ingest electoral_register FILE --body kingston --force)" in note
    assert json.loads((run.path / "manifest.json").read_text())["notes"] == [note]
    assert ("APP2", "KC3-4/0") in _found(run.path, "inconsistencies.parquet")  # it still runs

    from matching.cli import cli

    printed = CliRunner().invoke(cli, ["--workspace", str(ws), "run", JOB])
    assert printed.exit_code == 0
    assert "without household_surnames" in printed.stderr


def test_a_register_ingested_now_has_no_note(tmp_path: Path) -> None:
    assert run_job(JOB, workspace=_workspace(tmp_path)).notes == []


CT_JOB = "admissions-to-council-tax"
CT_ADMISSIONS = (
    ADMISSIONS[0],
    [
        # Took a flat near the school in October and kept the family home: liable at both, with
        # her own email on both accounts.
        ["APP1", "Jane", "Woodcock", "Mother", "1 Alpha Road", "KT1 1AA", "jane.woodcock@example.com",
         "Amy", "Woodcock", "2021-03-01", "Alpha Primary", "2026-01-10", "2026-09-01"],
        # Lives where she says; a woman of the same name pays council tax elsewhere.
        ["APP2", "Nadia", "Quenby", "Mother", "2 Zeta Road", "KT5 6GH", "nadia.quenby@example.com",
         "Sam", "Quenby", "2021-07-01", "Alpha Primary", "2026-01-14", "2026-09-01"],
        # Liable only elsewhere: the inconsistency.
        ["APP3", "John", "Fernhill", "Father", "5 Gamma Road", "KT1 3EF", "john.fernhill@example.com",
         "Ben", "Fernhill", "2021-05-01", "Alpha Primary", "2026-01-12", "2026-09-01"],
    ],
)
ACCOUNTS = (
    ["account_ref", "forenames", "surname", "address_line_1", "postcode", "email", "liable_from_date"],
    [
        ["CT1", "Jane", "Woodcock", "1 Alpha Road", "KT1 1AA", "jane.woodcock@example.com", "2025-10-01"],
        ["CT2", "Jane", "Woodcock", "9 Beta Road", "KT2 2BB", "jane.woodcock@example.com", "2014-06-01"],
        ["CT3", "Nadia", "Quenby", "2 Zeta Road", "KT5 6GH", "nadia.quenby@example.com", "2019-03-01"],
        ["CT4", "Nadia", "Quenby", "8 Eta Road", "KT6 7HJ", "", "2017-05-01"],
        ["CT5", "John", "Fernhill", "7 Delta Road", "KT3 4DD", "john.fernhill@example.com", "2016-02-01"],
        *([f"CT9{i:02d}", forename, surname, f"{i} Epsilon Road", "KT4 5EF", "", "2015-01-01"] for i, (forename, surname) in NEIGHBOURS),
    ],
)


def _ct_workspace(tmp_path: Path) -> Path:
    return _workspace(tmp_path, (("school_admissions", CT_ADMISSIONS), ("council_tax", ACCOUNTS)))


def test_a_parent_liable_at_both_addresses_is_not_set_aside(tmp_path: Path) -> None:
    """Council tax: a parent liable at the address given and, with the same email, at the
    family home is kept for review (rule.set_aside_unless), though both links are as strong;
    a namesake's account is still set aside."""
    ws = _ct_workspace(tmp_path)
    run = run_job(CT_JOB, workspace=ws, threshold=0.001)  # low enough to link the namesake by a name alone
    links = {(r["left_record_id"], r["right_record_id"]): r["match_probability"] for r in _rows(run.path / "pairs.parquet")}
    assert links[("APP1", "CT2")] <= links[("APP1", "CT1")]
    assert _found(run.path, "inconsistencies.parquet") == {("APP1", "CT2"), ("APP3", "CT5")}
    (aside,) = _rows(run.path / "set_aside.parquet")
    assert (aside["left_record_id"], aside["right_record_id"], aside["also_linked_right_record_id"]) == ("APP2", "CT4", "CT3")


def test_without_set_aside_unless_a_parent_liable_at_both_addresses_is_set_aside(tmp_path: Path) -> None:
    ws = _ct_workspace(tmp_path)
    without, n = re.subn(r"\nset_aside_unless = .*\n", "\n", (jobs_dir() / f"{CT_JOB}.toml").read_text())
    assert n == 1
    job = tmp_path / "jobs" / f"{CT_JOB}.toml"
    job.parent.mkdir()
    job.write_text(without)
    run = run_job(str(job), workspace=ws, threshold=0.001)
    assert _found(run.path, "inconsistencies.parquet") == {("APP3", "CT5")}
    assert _found(run.path, "set_aside.parquet") == {("APP1", "CT2"), ("APP2", "CT4")}
    # evaluate counts what the set-aside cost: Jane Woodcock's home account is a true inconsistency.
    truth = tmp_path / "truth"
    truth.mkdir()
    write_csv(truth / "inconsistencies.csv", ["job", "left_kind", "left_body", "left_record_id", "right_kind", "right_body", "right_record_id"],
              [[CT_JOB, "school_admissions", "kingston", a, "council_tax", "kingston", r] for a, r in (("APP1", "CT2"), ("APP3", "CT5"))])
    write_csv(truth / "entities.csv", ["kind", "body", "record_id", "person_id", "property_id"],
              [["school_admissions", "kingston", "APP1", "P1", ""], ["council_tax", "kingston", "CT1", "P1", ""],
               ["council_tax", "kingston", "CT2", "P1", ""]])
    assert evaluate_run(run.path, tmp_path)["set_aside"] == {"set_aside": 2, "true_inconsistencies": 1}


def test_a_parent_registered_under_another_surname_is_found_by_the_childs_at_home(tmp_path: Path) -> None:
    """Jessica applies as Redston, her daughter's surname; the register holds her as Newman, at
    the home the school census gives her daughter, where Rhys Redston is registered too. The
    household speaks though the child has the surname the application gives, since the elector
    has another: someone there has the child's surname. A namesake of her application's name
    lives alone elsewhere, where the census does not put Stella: not flagged.
    (Other families' applications and electors, each of another name, make names as rare as a
    council's: a term frequency over a handful of records would weigh any name as common.)"""
    def name(i: int, first: str) -> str:
        return first + "".join(chr(97 + (i // 26 ** k) % 26) for k in range(2))

    others = [[f"APX{i}", name(i, "Pa"), name(i, "Fam"), "Mother", f"{i} Nu Road", "KT9 9ZZ", "", name(i, "Kid"), name(i, "Fam"),
               "2020-01-01", "Alpha Primary", "2026-01-16", "2026-09-01"] for i in range(300)]
    admissions = (ADMISSIONS[0], [["APP7", "Jessica", "Redston", "Mother", "2 Kappa Road", "KT7 1AA", "", "Stella", "Redston",
                                   "2020-10-25", "Alpha Primary", "2026-01-16", "2026-09-01"], *others])
    electors = (ELECTORS[0], [*ELECTORS[1],
                              ["KG7-1/0", "Jessica", "Newman", "15 Lambda Road", "KT8 2BB", "", "2019-01-01"],
                              ["KG7-2/0", "Rhys", "Redston", "15 Lambda Road", "KT8 2BB", "", "2019-01-01"],
                              ["KH8-1/0", "Jessica", "Redston", "3 Mu Road", "KT9 3BB", "", "2016-01-01"],
                              *([f"KZ9-{i}/0", name(i, "El"), name(i, "Vo"), f"{i} Xi Road", "KT9 8YY", "", "2016-01-01"] for i in range(300))])
    pupils = (PUPILS[0], [*PUPILS[1], ["B123456789012", "Stella", "Redston", "2020-10-25", "15 Lambda Road", "KT8 2BB"]])
    ws = _workspace(tmp_path, (("school_admissions", admissions), ("electoral_register", electors), ("pupils", pupils)))
    run = run_job(JOB, workspace=ws, threshold=1e-9)  # every pair scored, to see each level
    links = {r["right_record_id"]: r for r in _rows(run.path / "pairs.parquet") if r["left_record_id"] == "APP7"}
    assert links["KG7-1/0"]["gamma_household"] == 1 and links["KG7-1/0"]["gamma_census_home"] == 1
    assert links["KH8-1/0"]["gamma_household"] == -1 and links["KH8-1/0"]["gamma_census_home"] == 0
    assert links["KG7-1/0"]["match_probability"] > links["KH8-1/0"]["match_probability"]
    run = run_job(JOB, workspace=ws)
    assert {right for left, right in _found(run.path, "inconsistencies.parquet") if left == "APP7"} == {"KG7-1/0"}
