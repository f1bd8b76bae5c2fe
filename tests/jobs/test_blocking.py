"""The engine's blocked pairs are exactly the pairs Splink would score, each with Splink's rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import duckdb
import pytest

from matching.jobs.config import load_job
from matching.linkage import blocking
from matching.linkage.blocking import compute_blocked_pairs, estimate_comparisons
from matching.linkage.inputs import linkage_tables, load_records, select_inputs
from matching.linkage.settings import prediction_settings
from matching.workspace import Workspace

# One job per shape of linkage: two kinds; one kind across two bodies; across three bodies;
# duplicates within each body.
JOBS = ["hb-to-deceased", "person-link", "payroll-to-payroll", "duplicate-payments"]


def _tables(ws: Workspace, name: str) -> tuple[Any, duckdb.DuckDBPyConnection, list[tuple[str, str]], Any]:
    from splink import DuckDBAPI, Linker

    job = load_job(name)
    con = duckdb.connect()
    inputs = select_inputs(ws, job)
    load_records(con, inputs)
    tables = linkage_tables(con, job, inputs, row_ids=True)
    db_api = DuckDBAPI(connection=con)
    model = Path(__file__).resolve().parents[2] / "configs" / "models" / f"{name}.json"
    linker = Linker([db_api.register(t, dataset_display_name=d) for t, d in tables], prediction_settings(job, "duckdb", model))
    return job, con, tables, linker


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, str]]:
    """Splink's blocked pairs: (rule, left record's key, right record's key)."""
    return sorted(
        con.execute(f"SELECT match_key, CAST(join_key_l AS VARCHAR), CAST(join_key_r AS VARCHAR) FROM {table}").fetchall()
    )


def _ours(con: duckdb.DuckDBPyConnection, job: Any, tables: list[tuple[str, str]], table: str) -> list[tuple[str, str, str]]:
    """The engine's blocked pairs, keyed as Splink keys them (its dataset's name and the id, or
    for a dedupe the id alone): the engine keys a record by its integer id."""
    key = "CAST(id AS VARCHAR)" if job.link_type == "dedupe_only" else "display || '-__-' || id"
    records = " UNION ALL ".join(f"SELECT unique_id AS id, '{display}' AS display FROM {t}" for t, display in tables)
    return sorted(con.execute(
        f"WITH records AS (SELECT id, {key} AS key FROM ({records})) "
        f"SELECT p.match_key, l.key, r.key FROM {table} p JOIN records l ON l.id = p.join_key_l JOIN records r ON r.id = p.join_key_r"
    ).fetchall())


@pytest.mark.parametrize("name", JOBS)
def test_the_engine_blocks_the_pairs_splink_would_with_the_same_rule(sample: Workspace, name: str) -> None:
    job, con, tables, linker = _tables(sample, name)
    splinks = linker.inference.compute_blocked_pairs_for_predict().physical_name
    by_rule = compute_blocked_pairs(con, job, tables, "ours")
    expected = _rows(con, splinks)
    assert len(expected) > 0
    assert _ours(con, job, tables, "ours") == expected
    assert sum(by_rule.values()) == len(expected)


@pytest.mark.parametrize("few_rules", [0, 100])
@pytest.mark.parametrize("name", JOBS)
def test_leaving_out_earlier_rules_pairs_and_grouping_find_the_same_pairs(
    sample: Workspace, name: str, few_rules: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each way of finding pairs (chosen by the number of rules) gives Splink's table, for every
    shape of job: forced one way (no job has so few rules) and then the other."""
    job, con, tables, linker = _tables(sample, name)
    splinks = linker.inference.compute_blocked_pairs_for_predict().physical_name
    monkeypatch.setattr(blocking, "FEW_RULES", few_rules)
    by_rule = compute_blocked_pairs(con, job, tables, "ours")
    assert _ours(con, job, tables, "ours") == _rows(con, splinks)
    assert sum(by_rule.values()) == len(_rows(con, splinks))


@pytest.mark.parametrize("name", ["person-link", "payroll-to-payroll", "duplicate-payments"])
def test_the_cells_of_a_chunk_grid_hold_every_pair_once(sample: Workspace, name: str) -> None:
    job, con, tables, _ = _tables(sample, name)
    compute_blocked_pairs(con, job, tables, "whole")
    cells = []
    for a in (1, 2):
        for b in (1, 2, 3):
            compute_blocked_pairs(con, job, tables, f"cell_{a}_{b}", ((a, 2), (b, 3)))
            cells.append(_ours(con, job, tables, f"cell_{a}_{b}"))
    assert all(cells), "a 2 x 3 grid of this sample leaves no cell empty"
    assert sorted(row for cell in cells for row in cell) == _ours(con, job, tables, "whole")


def test_the_left_input_is_the_one_splink_puts_on_the_left_in_any_order(sample: Workspace) -> None:
    job, con, tables, linker = _tables(sample, "hb-to-deceased")
    splinks = linker.inference.compute_blocked_pairs_for_predict().physical_name
    compute_blocked_pairs(con, job, list(reversed(tables)), "reversed")
    assert _ours(con, job, tables, "reversed") == _rows(con, splinks)


def test_inputs_too_big_to_number_are_refused_with_the_fix(sample: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from matching.errors import UserError
    from matching.linkage import inputs as inputs_module

    monkeypatch.setattr(inputs_module, "MAX_ROW_ID", 50)
    job = load_job("hb-to-deceased")
    con = duckdb.connect()
    inputs = select_inputs(sample, job)
    load_records(con, inputs)
    with pytest.raises(UserError) as err:
        linkage_tables(con, job, inputs, row_ids=True)
    assert "hb-to-deceased" in str(err.value) and "--backend spark" in str(err.value)


@pytest.mark.parametrize("name", JOBS)
def test_the_guards_estimate_is_exact_when_the_inputs_fit_its_sample(sample: Workspace, name: str) -> None:
    job, con, tables, _ = _tables(sample, name)
    found = compute_blocked_pairs(con, job, tables, "whole")
    assert estimate_comparisons(con, job, tables) == [(rule, found.get(k, 0)) for k, rule in enumerate(job.blocking_rules)]


@pytest.mark.parametrize("name", JOBS)
def test_when_few_comparisons_are_enough_to_know_the_guard_counts_candidates(sample: Workspace, name: str) -> None:
    """Candidates (what each rule's join makes) bound what the rule adds: enough for a guard
    that only needs to know they are few, without finding the pairs."""
    job, con, tables, _ = _tables(sample, name)
    found = compute_blocked_pairs(con, job, tables, "whole")
    candidates = estimate_comparisons(con, job, tables, enough=10**9)
    assert all(n >= found.get(k, 0) for k, (_, n) in enumerate(candidates))
    assert sum(n for _, n in candidates) > sum(found.values())  # rules overlap: the bound is not the count
    assert estimate_comparisons(con, job, tables, enough=1) == estimate_comparisons(con, job, tables)


def test_the_guard_scales_up_what_it_finds_in_a_sample(sample: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample of about half the records holds about a quarter of the pairs, counted four times
    over. (The sample is drawn by a hash of each record's id, so the figure is the same every run.)"""
    job, con, tables, _ = _tables(sample, "duplicate-payments")
    exact = sum(compute_blocked_pairs(con, job, tables, "whole").values())
    largest = max(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t, _ in tables)
    monkeypatch.setattr(blocking, "GUARD_SAMPLE_RECORDS", largest // 2)
    estimate = sum(n for _, n in estimate_comparisons(con, job, tables))
    assert exact > 1000 and 0.8 * exact < estimate < 1.2 * exact
    assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name LIKE 'guard_sample%'").fetchall()


def test_a_rule_pairing_whole_tables_is_estimated_without_finding_its_pairs(sample: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond the sample's candidate limit the estimate is what each rule's join would make (its
    blocks' sizes multiplied), which bounds what it adds: a rule with no equality pairs all."""
    job, con, tables, _ = _tables(sample, "hb-to-deceased")
    job = dataclasses.replace(job, blocking_rules=("l.ni_number = r.ni_number", "l.postcode = r.postcode OR l.dob = r.dob"))
    sizes = [con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t, _ in tables]
    exact = compute_blocked_pairs(con, job, tables, "whole")
    monkeypatch.setattr(blocking, "GUARD_SAMPLE_CANDIDATES", 1)
    (ni_rule, ni), (or_rule, everything) = estimate_comparisons(con, job, tables)
    assert ni >= exact.get(0, 0) > 0
    assert everything == sizes[0] * sizes[1] > exact[1]


def _two_sides(con: duckdb.DuckDBPyConnection, left: int, right: int) -> list[tuple[str, str]]:
    """Linkage tables numbered as linkage_tables numbers them (left even, right odd), with a
    key of ten values, a date, and the same date as a timestamp."""
    for name, n, side in (("link_left", left, 0), ("link_right", right, 1)):
        con.execute(
            f"CREATE OR REPLACE TABLE {name} AS SELECT i * 2 + {side} AS unique_id, 'P' || (i % 10) AS postcode, "
            "DATE '2000-01-01' + CAST(i % 10 AS INTEGER) AS dob, "
            f"CAST(DATE '2000-01-01' + CAST(i % 10 AS INTEGER) AS TIMESTAMP) AS date_of_death FROM range({n}) t(i)"
        )
    return [("link_left", "left"), ("link_right", "right")]


@pytest.mark.parametrize("enough", [None, 10**12])
def test_a_small_table_is_not_sampled_at_a_large_ones_rate(monkeypatch: pytest.MonkeyPatch, enough: int | None) -> None:
    """10,000 records against 40: drawing 3 in a hundred of each would leave one or two of the
    40, each standing for 33 1/3. Each table is drawn at its own rate (and a record standing for
    a fraction of records is counted without overflowing)."""
    con = duckdb.connect()
    tables = _two_sides(con, 10_000, 40)
    job = dataclasses.replace(load_job("hb-to-deceased"), blocking_rules=("l.postcode = r.postcode",))
    monkeypatch.setattr(blocking, "GUARD_SAMPLE_RECORDS", 300)
    exact = compute_blocked_pairs(con, job, tables, "whole")[0]
    assert exact == 40_000
    [(_, estimate)] = estimate_comparisons(con, job, tables, enough=enough)
    assert 0.8 * exact < estimate < 1.2 * exact


def test_keys_of_different_types_are_compared_as_the_join_compares_them() -> None:
    """A date equals a timestamp at midnight in the join, so it must in the count."""
    con = duckdb.connect()
    tables = _two_sides(con, 100, 100)
    job = dataclasses.replace(load_job("hb-to-deceased"), blocking_rules=("l.dob = r.date_of_death",))
    exact = compute_blocked_pairs(con, job, tables, "whole")[0]
    assert exact == 1_000
    assert estimate_comparisons(con, job, tables, enough=10**12) == [("l.dob = r.date_of_death", exact)]
