"""Subject access: everything held about one person, found in datasets and matches."""

from __future__ import annotations

import json

import pytest

from matching.casework.models import AuditEvent
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
    assert "2 dataset rows in 2 files; 7 matches." in r.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["searched_for"] == {"surname": "FRANCIS", "dob": "1956-10-01", "forename": None}
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
    assert "2 dataset rows in 2 files; 0 matches." in r.stdout
    none = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--forename", "Peggy", "--as", "admin")
    assert "0 dataset rows in 0 files; 0 matches." in none.stdout


def test_a_key_contact_sees_only_their_bodys_data(run_cli, held):
    r = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--as", "k_kc")
    assert r.exit_code == 0, r.stderr
    assert "1 dataset rows in 1 files; 5 matches." in r.stdout and "richmond" not in r.stdout


def test_others_may_not_search_and_bad_terms_are_messages(run_cli, held):
    for user in ("k_inv", "k_aud"):
        r = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-10-01", "--as", user)
        assert r.exit_code == 2 and f"{user} may not search for a person" in r.stderr
    bad = run_cli("subject-access", "--surname", "Francis", "--dob", "1956-13-01", "--as", "admin")
    assert bad.exit_code == 2 and "--dob" in bad.stderr
    empty = run_cli("subject-access", "--surname", "???", "--dob", "1956-10-01", "--as", "admin")
    assert empty.exit_code == 2 and "has no letters" in empty.stderr and "Traceback" not in empty.stderr
    assert not AuditEvent.objects.filter(action="subject_access").exists()
