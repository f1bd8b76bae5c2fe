"""Subject access: everything held about one person, found in datasets and matches."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matching.casework.models import AuditEvent
from tests.casework.fixtures import inconsistency, make_bundle
from tests.ingest.test_ingest import write_csv

HEADER = ["Record Ref", "Forename", "Surname", "DOB", "Postcode"]


# Matches are owned by kingston and richmond, and both bodies submitted a person file.
BODIES_SEARCHED = ["kingston", "richmond"]


@pytest.fixture
def held(run_cli, casework, tmp_path):
    """The casework store plus person datasets from kingston and richmond, ingested for real."""
    people = [["R1", "Gemma", "Francis", "01/10/1956", "TW9 9RP"], ["R2", "Peggy", "O'Brien", "1975-12-31", "KT1 1AA"],
              ["R3", "Gemma", "Francis", "02/10/1956", "TW9 9RP"]]
    for body in ("kingston", "richmond"):
        f = write_csv(tmp_path / f"{body}.csv", HEADER, people)
        assert run_cli("ingest", "person", str(f), "--body", body).exit_code == 0
    return casework


def test_a_superuser_finds_the_person_everywhere(run_cli, held, tmp_path):
    out = tmp_path / "sar" / "report.json"
    r = run_cli("subject-access", "--surname", "francis", "--dob", "1956-10-01", "--as", "admin", "--out", str(out))
    assert r.exit_code == 0, r.stderr
    assert "2 dataset rows in 2 files; 7 matches; 0 run bundles." in r.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["searched_for"] == {"surname": "FRANCIS", "dob": "1956-10-01", "forename": None}
    assert report["protective_marking"] == "OFFICIAL-SENSITIVE" and list(report)[0] == "protective_marking"
    assert sorted(d["body"] for d in report["datasets"]) == ["kingston", "richmond"]
    assert all(d["rows"][0]["record_id"] == "R1" for d in report["datasets"])
    assert len(report["matches"]) == 7
    first = held.matches["kingston"][0]
    match = next(m for m in report["matches"] if m["match_id"] == first.pk)
    assert match["left"]["record"]["surname"] == "FRANCIS"
    assert [e["action"] for e in match["audit_events"]] == ["allocate"]


def test_the_search_is_audited_without_the_terms(run_cli, held):
    run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--as", "admin")
    events = AuditEvent.objects.filter(action="subject_access")
    assert sorted(e.body for e in events) == BODIES_SEARCHED
    event = events.get(body="kingston")
    assert event.actor == "admin" and len(event.detail["terms_hmac"]) == 64
    assert AuditEvent.objects.filter(action="view", detail__via="subject_access").count() == 7
    assert event.detail["matches"] == 7 and event.detail["dataset_rows"] == 2
    assert "FRANCIS" not in json.dumps(event.detail).upper() and "1956" not in json.dumps(event.detail)


def test_terms_are_standardised_as_ingest_does(run_cli, held):
    r = run_cli("subject-access", "--surname", " o’brien ", "--dob", "1975-12-31", "--forename", "peggy", "--as", "admin")
    assert "2 dataset rows in 2 files; 0 matches; 0 run bundles." in r.stdout
    none = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--forename", "Peggy", "--as", "admin")
    assert "0 dataset rows in 0 files; 0 matches; 0 run bundles." in none.stdout


def test_a_key_contact_sees_only_their_bodys_data(run_cli, held):
    r = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--as", "k_kc")
    assert r.exit_code == 0, r.stderr
    assert "1 dataset row in 1 file; 5 matches; 0 run bundles." in r.stdout and "richmond" not in r.stdout


def test_others_may_not_search_and_bad_terms_are_messages(run_cli, held):
    for user in ("k_inv", "k_aud"):
        r = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--as", user)
        assert r.exit_code == 2 and f"{user} may not search for a person" in r.stderr
    bad = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-13-01", "--as", "admin")
    assert bad.exit_code == 2 and "--dob" in bad.stderr
    empty = run_cli("subject-access", "--surname", "???", "--dob", "1956-10-01", "--as", "admin")
    assert empty.exit_code == 2 and "has no letters" in empty.stderr and "Traceback" not in empty.stderr
    assert not AuditEvent.objects.filter(action="subject_access").exists()


def test_a_deactivated_key_contact_may_not_search(held, casework):
    """Who may search is access's decision, which knows an account switched off."""
    from matching.casework.subject_access import subject_access
    from matching.errors import UserError
    from matching.workspace import Workspace

    user = casework.users["k_kc"]
    user.is_active = False
    with pytest.raises(UserError, match="k_kc may not search for a person"):
        subject_access(Workspace.at(casework.workspace), user, surname="Francis", dob="1956-10-01")


def test_run_bundles_naming_the_persons_records_are_reported(run_cli, held, tmp_path):
    """A bundle keeps copies of records and what the engine concluded until its run is purged:
    person-link's pair of the two R1s and what a published run set aside about R1 are in a
    superuser's report; a row naming an R1 of another file (a reused id), or R2, is not. A key
    contact answers only for published runs their body has declared, and there for their
    body's rows: never for the unpublished person-link run, nor for another body's row."""
    linked = run_cli("run", "person-link", "--json")
    assert linked.exit_code == 0, linked.stderr
    (person_link,) = [r["run_id"] for r in linked.json()]
    subs = {p.parent.name: p.stem for p in (held.workspace / "datasets" / "person").glob("*/*.parquet")}
    run_id = make_bundle(held.workspace, [inconsistency(50)], job="admissions-to-council-tax")

    def aside(body: str, record: str, sub: str, also: str = "X9") -> dict:
        return {"owning_body": body, "left_kind": "school_admissions", "left_body": body, "left_submission_id": "a",
                "left_record_id": "A1", "right_kind": "person", "right_body": body, "right_submission_id": sub,
                "right_record_id": record, "match_probability": 0.99, "explanation": f"Application A1 ... {record}",
                "also_linked_right_body": body, "also_linked_right_submission_id": sub, "also_linked_right_record_id": also,
                "also_linked_match_probability": 0.999}

    pq.write_table(pa.Table.from_pylist([
        aside("kingston", "R1", subs["kingston"]), aside("kingston", "R2", subs["kingston"]),
        aside("kingston", "R1", "20250101T000000-person-kingston-0ld"), aside("richmond", "R1", subs["richmond"]),
        aside("richmond", "R3", subs["richmond"], also="R1"),  # R1 is the record that set it aside
    ]), held.workspace / "runs" / run_id / "set_aside.parquet")
    assert run_cli("publish", run_id).exit_code == 0
    out = tmp_path / "report.json"

    def report(user: str) -> dict:
        r = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--as", user, "--out", str(out))
        assert r.exit_code == 0, r.stderr
        return {x["run_id"]: x for x in json.loads(out.read_text())["runs"]}

    runs = report("admin")
    assert sorted(runs) == sorted([person_link, run_id])
    assert [(p["left_record_id"], p["right_record_id"]) for p in runs[person_link]["pairs"]] == [("R1", "R1")]
    (queued,) = runs[person_link]["inconsistencies"]
    assert queued["left_record"]["surname"] == "FRANCIS" and queued["owning_body"] == "kingston"
    assert sorted((a["owning_body"], a["right_record_id"]) for a in runs[run_id]["set_aside"]) == [
        ("kingston", "R1"), ("richmond", "R1"), ("richmond", "R3")]
    event = AuditEvent.objects.filter(action="subject_access", body="kingston").get()
    assert event.detail["runs"] == 2
    assert [(a["owning_body"], a["right_record_id"]) for a in report("r_kc")[run_id]["set_aside"]] == [
        ("richmond", "R1"), ("richmond", "R3")]
    assert list(report("k_kc")) == [run_id]  # not the unpublished person-link run


def test_every_person_a_row_holds_is_found(run_cli, casework, tmp_path):
    """A partner on a benefit claim, a maiden name on a death registration, and an elector
    with no date of birth (found by name, and said so) are all the person; a nickname finds
    the record of the name's usual form."""
    claims = tmp_path / "hb.csv"
    claims.write_text(
        "Claim Ref,Forename,Surname,DOB,Address Line 1,Claim Start Date,Partner Forenames,Partner Surname,Partner DOB\n"
        "C1,Raj,Patel,1950-01-01,1 High St,2024-01-01,Priya,Patel,1954-12-17\n", encoding="utf-8")
    deaths = tmp_path / "deaths.csv"
    deaths.write_text("Record ID,Forename,Surname,Surname at Birth,DOB,Date of Death\n"
                      "D1,Priya,Shah,Patel,1954-12-17,2026-01-01\n", encoding="utf-8")
    electors = tmp_path / "er.csv"
    electors.write_text("Elector Number,Forename,Surname,Address1\nE1,Priya,Patel,1 High St\nE2,Mick,Clarke,2 High St\n",
                        encoding="utf-8")
    assert run_cli("ingest", "housing_benefit", str(claims), "--body", "kingston").exit_code == 0
    assert run_cli("ingest", "deceased_persons", str(deaths), "--body", "kingston").exit_code == 0
    assert run_cli("ingest", "electoral_register", str(electors), "--body", "kingston").exit_code == 0
    out = tmp_path / "sar.json"
    r = run_cli("subject-access", "--surname", "Patel", "--dob", "1954-12-17", "--forename", "Priya", "--as", "k_kc", "--out", str(out))
    assert r.exit_code == 0, r.stderr
    found = {d["kind"]: [row["found_as"] for row in d["rows"]] for d in json.loads(out.read_text())["datasets"]}
    assert found == {
        "housing_benefit": ["partner"],
        "deceased_persons": ["the record's person (maiden name)"],
        "electoral_register": ["the record's person (found by name: the record holds no date of birth)"],
    }
    nick = tmp_path / "nick.json"
    assert run_cli("subject-access", "--surname", "Clarke", "--dob", "1940-11-20", "--forename", "Michael",
                   "--as", "k_kc", "--out", str(nick)).exit_code == 0
    (register,) = json.loads(nick.read_text())["datasets"]
    assert [row["record_id"] for row in register["rows"]] == ["E2"]


def test_rejected_rows_that_may_be_the_person_are_listed(run_cli, casework, tmp_path):
    f = tmp_path / "hb.csv"
    f.write_text("Claim Ref,Forename,Surname,DOB,Address Line 1,Claim Start Date\n"
                 "C1,Priya,Okafor,29/12/1991,,2024-01-01\n"      # rejected: no address line 1
                 "C2,Priya,Jones,29/12/1991,,2024-01-01\n"       # rejected, not her: one term
                 "C9,Ann,Lee,01/02/1980,1 High St,2024-01-01\n", encoding="utf-8")  # loads: a file with none is refused
    assert run_cli("ingest", "housing_benefit", str(f), "--body", "kingston").exit_code == 0  # rows rejected, file accepted
    out = tmp_path / "sar.json"
    r = run_cli("subject-access", "--surname", "Okafor", "--dob", "1991-12-29", "--as", "k_kc", "--out", str(out))
    assert r.exit_code == 0, r.stderr
    assert "1 rejected row may be the person: read it." in r.stdout
    (rejected,) = json.loads(out.read_text())["rejected_rows"]
    assert [row["Claim Ref"] for row in rejected["rows"]] == ["C1"] and rejected["body"] == "kingston"


def test_a_key_contact_is_not_shown_a_record_of_a_body_that_has_not_declared(run_cli, casework, tmp_path):
    """A run's inconsistency about the key contact's person that also shows another body's
    record is left out of subject access until that body declares, as the match is."""
    f = write_csv(tmp_path / "people.csv", HEADER, [["R1", "Gemma", "Francis", "01/10/1956", "TW9 9RP"]])
    sub = run_cli("ingest", "person", str(f), "--body", "kingston", "--json").json()["submission_id"]
    row = inconsistency(1, left={"record_id": "R1"}, right_body="windsor", left_kind="person", left_submission_id=sub)
    row["left_record_id"] = "R1"
    run_id = make_bundle(casework.workspace, [row])
    from matching.casework.publish import publish
    from matching.workspace import Workspace

    publish(Workspace.at(casework.workspace), run_id, actor="test")
    out = tmp_path / "sar.json"

    def runs() -> list:
        assert run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--as", "k_kc", "--out", str(out)).exit_code == 0
        return [r for r in json.loads(out.read_text())["runs"] if r["run_id"] == run_id]

    assert runs() == []
    from matching.casework.models import Body, Declaration, Exercise

    Declaration.objects.create(body=Body.objects.get(code="windsor"), exercise=Exercise.objects.get(), declared_by="t")
    (found,) = runs()
    assert found["inconsistencies"][0]["right_body"] == "windsor"


def test_rejected_rows_with_blanks_and_whole_lines_are_searched(run_cli, casework, tmp_path):
    f = tmp_path / "hb.csv"
    f.write_text("Claim Ref,Forename,Surname,DOB,Address Line 1,Claim Start Date\n"
                 "C1,Michael,Smith,01/01/1970,,2024-01-01\n"   # surname and date of birth
                 "C2,John,,01/01/1970,,2024-01-01\n"           # forename and date of birth
                 "C3,John,Smith,01/01/1970,1 High St,2024-01-01,extra\n"  # not a record: raw_line
                 "C9,Ann,Lee,01/02/1980,1 High St,2024-01-01\n", encoding="utf-8")  # loads: a file with none is refused
    assert run_cli("ingest", "housing_benefit", str(f), "--body", "kingston").exit_code == 0
    out = tmp_path / "sar.json"
    r = run_cli("subject-access", "--surname", "Smith", "--dob", "1970-01-01", "--forename", "John", "--as", "k_kc", "--out", str(out))
    assert r.exit_code == 0, r.stderr
    (rejected,) = json.loads(out.read_text())["rejected_rows"]
    assert sorted(row.get("Claim Ref") or row["raw_line"][:2] for row in rejected["rows"]) == ["C1", "C2", "C3"]


def test_a_blank_forename_does_not_hide_a_record_whose_date_of_birth_agrees(run_cli, casework, tmp_path):
    f = write_csv(tmp_path / "people.csv", HEADER, [["R1", "", "Smith", "1970-01-01", ""]])
    assert run_cli("ingest", "person", str(f), "--body", "kingston").exit_code == 0
    out = tmp_path / "sar.json"
    assert run_cli("subject-access", "--surname", "Smith", "--dob", "1970-01-01", "--forename", "John",
                   "--as", "k_kc", "--out", str(out)).exit_code == 0
    (found,) = json.loads(out.read_text())["datasets"]
    assert [row["record_id"] for row in found["rows"]] == ["R1"]
