"""owning_body = "each": a pair of two bodies' records is an inconsistency for each of them
(payroll-to-payroll: an employee of two councils; tenants-to-tenants: a tenant of two
landlords), and publishing gives each body its own match."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from matching.ingest import ingest_file
from matching.jobs.run import run_job
from matching.specs import configs_dir

SAMPLE = configs_dir().parent / "sample_data"


@pytest.fixture(scope="module")
def payroll_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    ws = tmp_path_factory.mktemp("each") / "ws"
    for body in ("kingston", "richmond", "windsor-maidenhead"):
        ingest_file("payroll", SAMPLE / body / "payroll.csv", body=body, workspace=ws)
    return ws, run_job("payroll-to-payroll", workspace=ws).path


def test_each_body_gets_the_inconsistency_about_its_own_employee(payroll_run) -> None:
    _, run = payroll_run
    rows = duckdb.connect().execute(
        f"SELECT owning_body, left_body, right_body, left_record_id, right_record_id FROM read_parquet('{run}/inconsistencies.parquet')"
    ).fetchall()
    pairs: dict[tuple, set[str]] = {}
    for owner, lb, rb, lid, rid in rows:
        pairs.setdefault((lb, lid, rb, rid), set()).add(owner)
    assert pairs and all(owners == {lb, rb} for (lb, _, rb, _), owners in pairs.items())
    assert {owner for owner, *_ in rows} == {"kingston", "richmond", "windsor-maidenhead"}


def test_publishing_gives_each_body_its_own_match_once(payroll_run, db) -> None:
    from matching.casework.models import Match
    from matching.casework.publish import publish
    from matching.workspace import Workspace

    ws, run = payroll_run
    publish(Workspace.at(ws), run.name, actor="test")
    matches = list(Match.objects.filter(job="payroll-to-payroll").values_list("owning_body__code", "left_record_id", "right_record_id"))
    by_pair: dict[tuple[str, str], set[str]] = {}
    for owner, lid, rid in matches:
        by_pair.setdefault((lid, rid), set()).add(owner)
    assert by_pair and all(len(owners) == 2 for owners in by_pair.values())
    # A later run of the same data gives each body the same match again, not another.
    later = run_job("payroll-to-payroll", workspace=ws).path
    publish(Workspace.at(ws), later.name, actor="test")
    assert Match.objects.filter(job="payroll-to-payroll").count() == len(matches)
    assert set(Match.objects.filter(job="payroll-to-payroll").values_list("times_seen", flat=True)) == {2}
