"""Comparing candidate blocking rules for a job: comparisons made, largest blocks, recall.

Blocking decides recall: a true pair no rule produces can never be linked. These answer,
for the job's rules or candidates: how many comparisons each adds (Splink's cumulative
count), which values make the largest blocks, and what share of known true pairs (from a
synthetic exercise's truth, or investigators' "same" labels: the same person, or the same
property for a property job) each finds.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from matching.evaluate.labels import SAME
from matching.evaluate.session import JobSession, origin_of
from matching.linkage.duckdb_backend import splink_log
from matching.linkage.inputs import linkage_tables
from matching.linkage.recipe import sample_proportion
from matching.linkage.settings import blocking_rule


def _tables(session: JobSession, rules: list[str]) -> list[Any]:
    """The job's Splink tables with every column the candidate rules read (registered afresh)."""
    variant = dataclasses.replace(session.job, blocking_rules=tuple(rules))
    return [session.db_api.register(name, dataset_display_name=display, table_name=f"{name}_{id(rules)}_{i}")
            for i, (name, display) in enumerate(linkage_tables(session.con, variant, session.inputs))]


def _rules(session: JobSession, rules: list[str] | None) -> list[str]:
    return list(rules) if rules is not None else list(session.job.blocking_rules)


def _proportion(session: JobSession, tables: list[Any]) -> float:
    largest = max(int(session.con.execute(f"SELECT count(*) FROM {t.physical_name}").fetchall()[0][0]) for t in tables)
    return sample_proportion(largest)


def comparison_counts(session: JobSession, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """Comparisons each rule adds after the rules before it, and the running total (named
    apart from ``blocking_recall``'s counts of true pairs, so the two tables merge on rule)."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    chosen = _rules(session, rules)
    tables = _tables(session, chosen)
    with splink_log():
        records = count_comparisons_from_blocking_rules(
            tables, blocking_rules=[blocking_rule(session.job.scoped(r), "duckdb") for r in chosen],
            link_type=session.job.link_type,  # type: ignore[arg-type]
            record_sample_proportion=_proportion(session, tables),
        )
    return [{"rule": rule, "comparisons_added": int(r["marginal_comparison_count"]),
             "comparisons_so_far": int(r["cumulative_comparison_count"])}
            for rule, r in zip(chosen, records, strict=True)]


def comparisons_chart(session: JobSession, rules: list[str] | None = None) -> Any:
    """Splink's cumulative comparisons chart for the job's rules (or candidates)."""
    from splink.blocking_analysis import chart_comparisons_from_blocking_rules

    chosen = _rules(session, rules)
    tables = _tables(session, chosen)
    with splink_log():
        return chart_comparisons_from_blocking_rules(
            tables, blocking_rules=[blocking_rule(session.job.scoped(r), "duckdb") for r in chosen],
            link_type=session.job.link_type,  # type: ignore[arg-type]
            record_sample_proportion=_proportion(session, tables),
        )


def largest_blocks(session: JobSession, rule: str, n: int = 5) -> list[dict[str, Any]]:
    """The join-key values that make a rule's largest blocks (before its other conditions)."""
    from splink.blocking_analysis import n_largest_blocks

    tables = _tables(session, [rule])
    with splink_log():
        result = n_largest_blocks(tables, blocking_rule=blocking_rule(session.job.scoped(rule), "duckdb"),
                                  link_type=session.job.link_type, n_largest=n)  # type: ignore[arg-type]
    return list(result.as_record_list())


def true_pairs_from_truth(session: JobSession, truth: str | Path) -> pa.Table:
    """Pairs of the job's input records that truly describe the same person (or property),
    as (unique_id_l, unique_id_r), from a synthetic exercise's truth. For a job whose records
    are transactions (``duplicate-payments``), the true pairs are the truth's inconsistencies
    of the job: the same invoice paid twice."""
    import duckdb

    from matching.evaluate.truth import (
        _check_truth,
        _pair_key,
        _same_exercise,
        _true_pairs,
        _truth_file,
    )

    _check_truth(Path(truth))
    con = duckdb.connect()
    job = session.job
    symmetric = job.left.kind == job.right.kind
    con.create_function("pair_key", lambda a, b, c, d: _pair_key(a, b, c, d, symmetric), return_type="VARCHAR")
    inputs = [{"side": side, "kind": s.kind, "body": s.body, "file_name": s.file_name, "sha256": s.sha256}
              for side, subs in (("left", session.inputs.left), ("right", session.inputs.right)) for s in subs]
    _same_exercise(Path(truth), inputs, f"{job.job}'s inputs in {origin_of(session.workspace)} were ingested from",
                   fix="set MATCHING_TRUTH (or pass the truth) to the folder of the exercise the workspace's files came from, "
                       "as matching synth wrote it.")
    if job.subject in ("person", "property"):
        _true_pairs(con, job, {"inputs": inputs}, Path(truth))
    else:
        con.execute(
            """CREATE TABLE true_pairs AS
               SELECT DISTINCT left_body AS lb, left_record_id AS lid, right_body AS rb, right_record_id AS rid
               FROM read_csv(?, all_varchar = true)
               WHERE job = ? AND left_kind = ? AND right_kind = ? AND list_contains(?, left_body) AND list_contains(?, right_body)""",
            [_truth_file(Path(truth), "inconsistencies.csv"), job.job, job.left.kind, job.right.kind,
             [i["body"] for i in inputs if i["side"] == "left"], [i["body"] for i in inputs if i["side"] == "right"]],
        )
    return con.sql("SELECT lb || '/' || lid AS unique_id_l, rb || '/' || rid AS unique_id_r FROM true_pairs").to_arrow_table()


def true_pairs_from_labels(labels: pa.Table, job: str | None = None) -> pa.Table:
    """The pairs investigators found to be the same person (or property), oriented left to
    right. Pass the job when the labels file holds several jobs' labels (``blocking_recall``
    counts only pairs of the session's inputs either way)."""
    import duckdb

    con = duckdb.connect()
    con.register("labels", labels)
    where = f"AND job = '{job}'" if job and "job" in labels.column_names else ""
    return con.sql(
        f"""SELECT CASE WHEN source_dataset_l = 'right' THEN unique_id_r ELSE unique_id_l END AS unique_id_l,
                   CASE WHEN source_dataset_l = 'right' THEN unique_id_l ELSE unique_id_r END AS unique_id_r
            FROM labels WHERE clerical_match_score >= {SAME} {where}"""
    ).to_arrow_table()


def blocking_recall(session: JobSession, pairs: pa.Table, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """For each rule: the known true pairs it finds, those no earlier rule found, those the
    rules so far find, and their recall. For a job linking a kind to itself a rule may match
    either way round.

    Only pairs whose two records are both among the session's inputs count, in the
    denominator (``known_pairs``) too: a labels file's pairs of other jobs, or of records no
    longer submitted, say nothing about this job's blocking."""
    from matching.evaluate.truth import blocking_sql

    chosen = _rules(session, rules)
    con = session.con
    con.register("known_pairs_arrow", pairs)
    con.execute("CREATE OR REPLACE TEMP TABLE known_pairs AS SELECT DISTINCT unique_id_l, unique_id_r FROM known_pairs_arrow")
    con.unregister("known_pairs_arrow")
    variant = dataclasses.replace(session.job, blocking_rules=tuple(session.job.scoped(r) for r in chosen))
    sqls = blocking_sql(con, variant, "left_records", "right_records")
    both_ways = session.job.left.kind == session.job.right.kind
    swapped = [re.sub(r"\b([lr])\.", lambda m: "r." if m.group(1) == "l" else "l.", s) for s in sqls]
    conditions = [f"coalesce(({s}), false)" + (f" OR coalesce(({w}), false)" if both_ways else "")
                  for s, w in zip(sqls, swapped, strict=True)]
    flags = ", ".join(f"({c}) AS rule_{i}" for i, c in enumerate(conditions)) or "NULL AS none"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE known_pairs_blocked AS
            SELECT p.unique_id_l, p.unique_id_r, {flags}
            FROM known_pairs p JOIN left_records l ON l.unique_id = p.unique_id_l
                               JOIN right_records r ON r.unique_id = p.unique_id_r"""
    )
    total = int(con.execute("SELECT count(*) FROM known_pairs_blocked").fetchall()[0][0])
    out, earlier = [], "false"
    for i, rule in enumerate(chosen):
        found, new = con.execute(
            f"SELECT count(*) FILTER (WHERE rule_{i}), count(*) FILTER (WHERE rule_{i} AND NOT ({earlier})) FROM known_pairs_blocked"
        ).fetchall()[0]
        earlier = f"{earlier} OR rule_{i}"
        so_far = int(con.execute(f"SELECT count(*) FILTER (WHERE {earlier}) FROM known_pairs_blocked").fetchall()[0][0])
        out.append({"rule": rule, "true_pairs_found": int(found), "new_true_pairs": int(new), "true_pairs_so_far": so_far,
                    "known_pairs": total, "recall": round(so_far / total, 4) if total else None})
    return out
