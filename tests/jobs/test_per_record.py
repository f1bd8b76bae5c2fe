"""A comparison's per-record parts (a record's house numbers, its date of birth as text) are
worked out once per record, and the scores are exactly Splink's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from matching.jobs.config import list_jobs, load_job
from matching.linkage.duckdb_backend import predict
from matching.linkage.hoist import hoist, level_sql, restore
from matching.linkage.inputs import linkage_tables, load_records, select_inputs
from matching.linkage.settings import prediction_settings, settings_dict
from matching.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
JOBS = ["hb-to-deceased", "person-link", "payroll-to-payroll", "duplicate-payments"]
HOUSE_NUMBERS = r"regexp_extract_all(address_single_{side}, '\b(?:FLAT |F)?([0-9]+[A-Z]?|[A-Z])\b', 1)"


def _settings(*levels: str) -> dict[str, Any]:
    return {"comparisons": [{"output_column_name": "c", "comparison_levels": [
        {"sql_condition": "a_l IS NULL OR a_r IS NULL", "is_null_level": True},
        *({"sql_condition": sql} for sql in levels),
        {"sql_condition": "ELSE"},
    ]}]}


def _conditions(settings: dict[str, Any]) -> list[str]:
    return [lv["sql_condition"] for lv in settings["comparisons"][0]["comparison_levels"]]


def test_a_regular_expression_on_one_record_becomes_a_column_of_that_record() -> None:
    settings = _settings(f"{HOUSE_NUMBERS.format(side='l')} = {HOUSE_NUMBERS.format(side='r')} AND regexp_matches(a_l, '[0-9]')")
    columns = hoist(settings)
    assert sorted(columns.values()) == sorted([
        r"REGEXP_EXTRACT_ALL(address_single, '\b(?:FLAT |F)?([0-9]+[A-Z]?|[A-Z])\b', 1)",
        "REGEXP_MATCHES(a, '[0-9]')",
    ])
    numbers = next(name for name, sql in columns.items() if "EXTRACT" in sql)
    matches = next(name for name, sql in columns.items() if "MATCHES" in sql)
    # The same expression of each side is one column, read as its _l and _r.
    assert _conditions(settings)[1] == f"{numbers}_l = {numbers}_r AND {matches}_l"


def test_what_reads_both_records_or_nothing_costly_stays_as_written() -> None:
    written = [
        "jaro_winkler_similarity(a_l, a_r) >= 0.9",
        "regexp_matches(a_l || a_r, 'X')",  # both records in one call: nothing to do once per record
        "left(a_l, 3) = left(a_r, 3)",  # cheap: not worth a column
        "regexp_matches(l.a, 'X')",  # a qualified column: left to Splink
    ]
    settings = _settings(*written)
    assert hoist(settings) == {}
    assert _conditions(settings)[1:-1] == written


def test_the_largest_one_sided_part_is_worked_out_and_the_level_keeps_its_logic() -> None:
    settings = _settings("CASE WHEN b_l = b_r THEN lower(regexp_replace(a_l, ' ', '')) = lower(regexp_replace(a_r, ' ', '')) ELSE false END")
    columns = hoist(settings)
    assert list(columns.values()) == ["LOWER(REGEXP_REPLACE(a, ' ', ''))"]
    (name,) = columns
    assert _conditions(settings)[1] == f"CASE WHEN b_l = b_r THEN {name}_l = {name}_r ELSE FALSE END"


@pytest.mark.parametrize(
    ("written", "worked_out"),
    [
        # A cast may fail on a record whose pairs never reach the level: only the regex is taken.
        (r"abs(CAST(split_part(regexp_replace(a_l, '\s', '', 'g'), '/', 2) AS INTEGER) - CAST(split_part(a_r, '/', 2) AS INTEGER)) <= 1",
         [r"REGEXP_REPLACE(a, '\s', '', 'g')"]),
        # A CASE branch is not a part: the condition inside it is.
        ("CASE WHEN regexp_matches(a_l, '^[0-9]+$') THEN a_l ELSE a_r END = '70163'", ["REGEXP_MATCHES(a, '^[0-9]+$')"]),
        # Inside a lambda, or with a pattern read from a column, nothing is.
        ("len(list_filter(str_split(a_r, '/'), lambda t: regexp_matches(t, '^' || left(a_l, 2)))) > 0", []),
        ("regexp_matches(a_l, b_l) AND a_r IS NOT NULL", []),
    ],
)
def test_only_what_cannot_fail_on_any_record_is_worked_out_once(written: str, worked_out: list[str]) -> None:
    """Worked out for every record, a part must not fail where the level as written would
    never have been reached (a review found a cast, a CASE branch and a lambda taken in)."""
    import sqlglot

    settings = _settings(written)
    columns = hoist(settings)
    assert sorted(columns.values()) == worked_out
    rewritten = _conditions(settings)[1]
    sqlglot.parse_one(rewritten, read="duckdb")
    assert (rewritten == written) == (not worked_out)


def test_a_model_trained_on_per_record_columns_is_saved_as_the_config_writes_it() -> None:
    job = load_job("person-link")
    settings = settings_dict(job)
    written = level_sql(settings)
    assert hoist(settings)
    assert level_sql(settings) != written
    assert level_sql(restore(settings, written)) == level_sql(settings_dict(job))


@pytest.mark.parametrize("name", list_jobs())
def test_every_standard_jobs_levels_read_columns_the_tables_will_hold(name: str) -> None:
    """Each rewritten level is one condition; each per-record column reads its record's own
    linkage columns only."""
    import sqlglot
    from sqlglot import exp

    from matching.linkage.settings import linkage_columns

    job = load_job(name)
    settings = settings_dict(job)
    columns = hoist(settings)
    for conditions in level_sql(settings):
        for sql in conditions:
            if sql and sql != "ELSE":
                sqlglot.parse_one(sql, read="duckdb")
    for sql in columns.values():
        assert {c.name for c in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Column)} <= set(linkage_columns(job)), sql


@pytest.mark.parametrize("name", JOBS)
def test_scores_are_splinks_own_to_the_last_bit(sample: Workspace, name: str, tmp_path: Path) -> None:
    """The engine's scoring (per-record columns, its own blocking, records joined on integer
    ids) gives every pair Splink's own predict gives, with the same weight, on the job's
    written settings: in one pass, and in a grid of chunks (each joined to its records only)."""
    from splink import DuckDBAPI, Linker

    job = load_job(name)
    model = ROOT / "configs" / "models" / f"{name}.json"
    con = duckdb.connect()
    inputs = select_inputs(sample, job)
    load_records(con, inputs)
    ours, _, _ = predict(con, job, inputs, model, threshold=0.0, spill_dir=tmp_path)
    columns = "unique_id_l, unique_id_r, match_weight, match_probability"
    engine = con.execute(f"SELECT {columns} FROM {ours} ORDER BY ALL").fetchall()
    chunked, _, grid = predict(con, job, inputs, model, threshold=0.0, chunks=(2, 3), spill_dir=tmp_path / "chunks")
    assert grid == (2, 3)
    assert con.execute(f"SELECT {columns} FROM {chunked} ORDER BY ALL").fetchall() == engine
    tables = linkage_tables(con, job, inputs, row_ids=True)  # as the engine numbers them, without its columns
    db_api = DuckDBAPI(connection=con)
    linker = Linker([db_api.register(t, dataset_display_name=d) for t, d in tables], prediction_settings(job, "duckdb", model))
    splinks = linker.inference.predict(threshold_match_probability=0.0).physical_name
    assert "regexp" in str(level_sql(prediction_settings(job, "duckdb", model))).lower()
    assert len(engine) > 0
    assert engine == con.execute(f"SELECT {columns} FROM {splinks} ORDER BY ALL").fetchall()

