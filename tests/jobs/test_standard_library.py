"""Every standard job, with the model it ships, on a synthetic exercise that neither trained
nor tuned it (seed 777): the accuracy the README promises, job by job, so a change to a
config, a model, a rule or the generator that loses inconsistencies fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from matching import ingest_dir, run_job
from matching.evaluate import evaluate_run
from matching.jobs.config import list_jobs
from matching.synth.exercise import generate

# An admission form has no date of birth and, by definition, another address: a parent who
# shares no email or phone with the account, its electors or the elector, and whose child is
# on the school census neither by UPN, nor by name and date of birth, nor as a pupil born that
# day at the property, can be told from a namesake only by a rare name or the household
# (README, Accuracy).
# On this exercise the jobs find 37 of 40 (0.925, precision 0.974) and 55 of 58 (0.948,
# precision 1.0); the floors allow one miss more.
# Every other job finds all its planted inconsistencies here, at precision 0.99 or more.
RECALL_FLOOR = {"admissions-to-council-tax": 0.9, "admissions-to-electoral-register": 0.93}
# Blocking recall is held to the goal, 0.995, for every job. admissions-to-council-tax blocks
# 805 of 806 true pairs here (0.9988; 0.998 on the README's exercise) since it blocks joint
# liable parents applying under their own surname by the child's surname (README, Accuracy).
BLOCKING_FLOOR: dict[str, float] = {}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The exercise, and each job's run."""
    root = tmp_path_factory.mktemp("library")
    generate(people=20_000, seed=777, out=root / "exercise", fmt="parquet")
    ingest_dir(root / "exercise", workspace=root / "workspace")
    return root / "exercise", {name: run_job(name, workspace=root / "workspace").path for name in list_jobs()}


@pytest.fixture(scope="module")
def reports(runs: tuple[Path, dict[str, Path]]) -> dict[str, dict[str, Any]]:
    exercise, paths = runs
    return {name: evaluate_run(path, exercise) for name, path in paths.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in list_jobs() if n != "person-link"])
def test_the_job_finds_the_planted_inconsistencies(reports: dict[str, dict[str, Any]], name: str) -> None:
    found = reports[name]["inconsistencies"]
    assert found["actual"] >= 15, f"{name}: too few planted to judge"
    assert found["precision"] >= 0.95, (name, found)
    assert found["recall"] >= RECALL_FLOOR.get(name, 0.98), (name, found)
    blocking = reports[name].get("blocking")
    if blocking:  # duplicate-payments compares invoices, which have no person to block on
        assert blocking["recall"] >= BLOCKING_FLOOR.get(name, 0.995), (name, blocking)


@pytest.mark.slow
def test_person_link_links_the_same_people(reports: dict[str, dict[str, Any]]) -> None:
    link = reports["person-link"]["linkage"]
    assert link["actual"] > 100
    assert link["precision"] >= 0.95 and link["recall"] >= 0.95, link


def test_the_floors_name_real_jobs() -> None:
    assert set(RECALL_FLOOR) | set(BLOCKING_FLOOR) <= set(list_jobs())


@pytest.mark.slow
def test_a_parent_liable_at_the_address_given_and_at_home_is_found(runs: tuple[Path, dict[str, Path]]) -> None:
    """The generator's lets: the application gives a flat the parent pays council tax on, and
    the family home's account is the inconsistency. Where the home account holds the
    application's email or phone, the job finds it, though the parent links as strongly at
    the address given (rule.set_aside_unless)."""
    exercise, paths = runs
    con = duckdb.connect()
    con.execute(f"CREATE VIEW entities AS SELECT * FROM read_csv('{exercise}/truth/entities.csv', all_varchar = true)")
    con.execute(f"CREATE VIEW truth AS SELECT * FROM read_csv('{exercise}/truth/inconsistencies.csv', all_varchar = true) "
                "WHERE job = 'admissions-to-council-tax'")
    for kind in ("school_admissions", "council_tax"):  # as ingested (standardised emails and phones)
        con.execute(f"CREATE VIEW {kind} AS SELECT * FROM read_parquet('{exercise.parent}/workspace/datasets/{kind}/*/*.parquet')")
    lets = con.execute("""
        SELECT t.left_record_id, t.right_record_id, coalesce(a.email = h.email OR a.phone = h.phone, false)
        FROM truth t
        JOIN entities ea ON ea.kind = 'school_admissions' AND ea.body = t.left_body AND ea.record_id = t.left_record_id
        JOIN entities el ON el.kind = 'council_tax' AND el.person_id = ea.person_id AND el.property_id = ea.property_id
        JOIN school_admissions a ON a.body = t.left_body AND a.record_id = t.left_record_id
        JOIN council_tax h ON h.body = t.right_body AND h.record_id = t.right_record_id
    """).fetchall()
    shared = {(a, r) for a, r, same in lets if same}
    assert len(lets) >= 3 and shared, lets
    found = set(con.execute(f"SELECT left_record_id, right_record_id FROM read_parquet('{paths['admissions-to-council-tax']}/inconsistencies.parquet')").fetchall())
    assert shared <= found


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ctr-to-deceased", "payroll-to-payroll"])
def test_a_run_for_one_body_is_judged_by_what_that_body_owns(runs: tuple[Path, dict[str, Path]], name: str) -> None:
    """run --body keeps only that body's inconsistencies; evaluate judges it against the
    inconsistencies that body owns, not every body's (which made its recall look halved)."""
    exercise, paths = runs
    workspace = paths[name].parent.parent
    whole = evaluate_run(paths[name], exercise)["inconsistencies"]
    kingston = evaluate_run(run_job(name, workspace=workspace, body="kingston").path, exercise)["inconsistencies"]
    assert 0 < kingston["actual"] < whole["actual"]
    assert kingston["recall"] == whole["recall"] == 1.0 and kingston["precision"] >= 0.95
