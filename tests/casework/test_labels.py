"""Outcomes as labels: the latest outcome of each match, as Splink pairwise labels that join
to the engine's Splink tables, written as CSV or Parquet and audited."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow.parquet as pq
import pytest

from matching.casework import lifecycle
from matching.casework.labels import SPLINK_COLUMNS, export_labels, job_shape, labelled_pairs
from matching.casework.models import AuditEvent, Match
from matching.errors import UserError
from tests.casework.fixtures import Casework


def close(cw: Casework, match: Match, label: str, category: str = "no_issue") -> None:
    """Record an outcome as the match's body's key contact would."""
    prefix = "k" if match.owning_body.code == "kingston" else "r"
    match = Match.objects.get(pk=match.pk)
    lifecycle.record_outcome(match, cw.users[f"{prefix}_kc"],
                             lifecycle.OutcomeInput(category=category, linkage_label=label), match.version)


@pytest.fixture
def labelled(casework: Casework) -> Casework:
    """Kingston's first three matches: same, not the same, not sure; richmond's first: same."""
    k = casework.matches["kingston"]
    close(casework, k[0], "same", "error")
    close(casework, k[1], "not_same")
    close(casework, k[2], "not_sure")
    close(casework, casework.matches["richmond"][0], "same")
    return casework


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_labels_name_records_as_the_engine_registers_them(labelled: Casework) -> None:
    rows = labelled_pairs("hb-to-deceased")
    first = next(r for r in rows if r["match_id"] == labelled.matches["kingston"][0].pk)
    # hb-to-deceased links two kinds: Splink's inputs are registered as "left" and "right",
    # and unique_id is body/record id (matching.linkage.inputs.load_records).
    assert first["source_dataset_l"] == "left" and first["source_dataset_r"] == "right"
    assert first["unique_id_l"] == f"kingston/{labelled.matches['kingston'][0].left_record_id}"
    assert first["unique_id_r"].startswith("dwp/DR")
    assert first["clerical_match_score"] == 1.0 and first["outcome_category"] == "error"


def test_not_sure_is_left_out_unless_asked_for(labelled: Casework) -> None:
    scores = sorted(r["clerical_match_score"] for r in labelled_pairs())
    assert scores == [0.0, 1.0, 1.0]
    assert sorted(r["clerical_match_score"] for r in labelled_pairs(include_unsure=True)) == [0.0, 0.5, 1.0, 1.0]


def test_only_the_latest_outcome_of_a_reopened_match_counts(labelled: Casework) -> None:
    match = Match.objects.get(pk=labelled.matches["kingston"][1].pk)
    lifecycle.reopen(match, labelled.users["k_kc"], "records checked again", match.version)
    # Reopened, its outcome is being looked at again: no label until it is closed again (as
    # exports leave a reopened match's last outcome out).
    assert match.pk not in {r["match_id"] for r in labelled_pairs()}
    close(labelled, match, "same")
    rows = [r for r in labelled_pairs() if r["match_id"] == match.pk]
    assert [r["clerical_match_score"] for r in rows] == [1.0]


def test_export_csv_and_parquet_hold_the_same_labels(labelled: Casework, tmp_path: Path) -> None:
    result = export_labels(tmp_path / "labels.csv", job="hb-to-deceased", actor="analyst")
    assert result.format == "csv" and result.rows == 3 and result.by_label == {"not_same": 1, "same": 2}
    rows = read_csv(tmp_path / "labels.csv")
    assert list(rows[0])[:5] == SPLINK_COLUMNS
    parquet = export_labels(tmp_path / "labels.parquet", job="hb-to-deceased")
    assert parquet.format == "parquet"
    table = pq.read_table(tmp_path / "labels.parquet")
    assert table.column_names[:5] == SPLINK_COLUMNS
    # Row by row, every Splink column holds the same value in both files.
    in_csv = [(r["source_dataset_l"], r["unique_id_l"], r["source_dataset_r"], r["unique_id_r"], float(r["clerical_match_score"]))
              for r in rows]
    in_parquet = [tuple(r[c] for c in SPLINK_COLUMNS) for r in table.to_pylist()]
    assert in_parquet == in_csv
    assert sorted(score for *_, score in in_csv) == [0.0, 1.0, 1.0]


def test_export_is_audited_once_per_body(labelled: Casework, tmp_path: Path) -> None:
    export_labels(tmp_path / "labels.csv", actor="analyst")
    events = AuditEvent.objects.filter(action="labels_export").order_by("body")
    assert [(e.body, e.detail["rows_of_body"], e.detail["rows"]) for e in events] == [("kingston", 2, 3), ("richmond", 1, 3)]
    assert all(e.actor == "analyst" for e in events)


def test_an_unknown_job_is_named_with_a_suggestion(labelled: Casework, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="Did you mean 'hb-to-deceased'"):
        export_labels(tmp_path / "labels.csv", job="hb-to-decease")
    assert not (tmp_path / "labels.csv").exists()


def test_labels_export_command(labelled: Casework, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "out" / "labels.parquet"
    result = run_cli("labels", "export", "hb-to-deceased", "--out", str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Wrote 3 labelled pairs (1 not_same, 2 same)" in result.stdout
    assert pq.read_table(out).num_rows == 3
    result = run_cli("labels", "export", "--out", str(tmp_path / "all.csv"), "--include-unsure", "--json")
    assert result.json()["by_label"] == {"not_same": 1, "not_sure": 1, "same": 2}  # type: ignore[index]


@pytest.mark.parametrize("job, expected", [
    ("hb-to-deceased", ["left", "right"]),
    ("payroll-to-payroll", ["kingston", "richmond"]),
    ("duplicate-payments", ["all"]),
])
def test_source_datasets_are_the_names_linkage_registers(job: str, expected: list[str]) -> None:
    """The labels' source_dataset values are the display names linkage_tables gives Splink."""
    from matching.jobs.config import load_job
    from matching.linkage.inputs import linkage_tables, standard_column_types
    from matching.linkage.settings import columns_used

    config = load_job(job)
    con = duckdb.connect()
    types = standard_column_types()
    cols = ", ".join(f"CAST(NULL AS {types[c]}) AS \"{c}\"" for c in sorted(columns_used(config)) if c != "body")
    for side in ("left", "right"):
        con.execute(f"CREATE TABLE {side}_records AS SELECT 'x/1' AS unique_id, 'x' AS body, {cols}")
    bodies = (SimpleNamespace(body="kingston"), SimpleNamespace(body="richmond"))
    tables = linkage_tables(con, config, SimpleNamespace(left=bodies, right=bodies))
    assert [display for _, display in tables] == expected
    shape = job_shape(job)
    names = {shape.source_dataset(side, body.body) for side in ("left", "right") for body in bodies}
    assert names == set(expected)


def test_only_a_same_person_label_counts_as_a_true_pair() -> None:
    """"Not sure" (0.5) says neither: it is not a true pair for blocking recall, nor a pair to
    learn m from."""
    import pyarrow as pa

    from matching.evaluate.blocking import true_pairs_from_labels

    labels = pa.table({
        "source_dataset_l": ["left", "left", "left"], "unique_id_l": ["k/1", "k/2", "k/3"],
        "source_dataset_r": ["right", "right", "right"], "unique_id_r": ["d/1", "d/2", "d/3"],
        "clerical_match_score": [1.0, 0.5, 0.0], "job": ["hb-to-deceased"] * 3,
    })
    assert true_pairs_from_labels(labels, "hb-to-deceased").to_pylist() == [{"unique_id_l": "k/1", "unique_id_r": "d/1"}]


def test_a_pair_labelled_by_both_bodies_counts_once_with_the_later_label(casework: Casework) -> None:
    """payroll-to-payroll gives each employer its own match of one pair: if both label it,
    the pair is one label (the later), not two that would count twice in accuracy."""
    from matching.casework.publish import publish
    from matching.workspace import Workspace
    from tests.casework.fixtures import inconsistency, make_bundle

    pair = {"job": "payroll-to-payroll", "left_kind": "payroll", "right_kind": "payroll", "right_body": "richmond"}
    rows = [inconsistency(60, **pair), inconsistency(60, **{**pair, "owning_body": "richmond"})]
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, rows, job="payroll-to-payroll",
                                                          manifest_extra={"owning_body": "each"}), actor="test")
    mine, theirs = (Match.objects.get(job="payroll-to-payroll", owning_body__code=b) for b in ("kingston", "richmond"))
    assert mine.pk < theirs.pk  # the later label is the lower match's: not the last match's by id
    close(casework, theirs, "not_same")
    close(casework, mine, "same")
    (label,) = labelled_pairs("payroll-to-payroll")
    assert (label["linkage_label"], label["owning_body"], label["clerical_match_score"]) == ("same", "kingston", 1.0)
