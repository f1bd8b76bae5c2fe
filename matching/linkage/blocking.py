"""The pairs a job scores, found by the engine and handed to Splink to score.

Splink finds blocked pairs rule by rule, excluding from each rule's join the pairs an earlier
rule found by testing every earlier rule on every candidate: nineteen rules test up to
eighteen conditions a candidate. Here each rule's join yields bare integer pairs, and one
aggregation keeps each pair once with the first rule that found it (with up to
``FEW_RULES`` rules, each join leaves out the earlier rules' pairs instead, as Splink does).
The result holds the pairs Splink would find (``match_key``, ``join_key_l``, ``join_key_r``), down to each pair's
orientation and rule (a chunk grid's cells split the pairs differently from Splink's, but
hold the same pairs between them), sorted by left record, which speeds the join of the
pairs to their records. Splink keys a record by its dataset's name and id as text
("left-body-__-123"); here the key is the record's integer id alone, unique across the
tables, which the scoring (``duckdb_backend.score_blocked_pairs``) joins on: at a million a
side the two joins of text keys cost 3.0 s of the prediction's 9.0 s of CPU. On person-link at a million records a side (three runs each, alternating,
same integer ids): finding the pairs takes 2.3-2.8 s against Splink's 3.3-3.7 s.

It needs the linkage tables' integer ids (``linkage_tables(..., row_ids=True)``): unique across
the tables, with a record's table its id modulo their number.
"""

from __future__ import annotations

import duckdb
from sqlglot import exp

from matching.ingest.standardise.sql import literal
from matching.jobs.config import JobConfig
from matching.linkage.inputs import create_tables
from matching.rules.check import parse_condition

# Splink keys a record "<source dataset>-__-<unique id>", and orients a pair across bodies by it.
KEY_SEPARATOR = "-__-"
# Both ids of a pair packed into one integer, which groups faster than two columns.
_LOW = (1 << 32) - 1


def _ordered(job: JobConfig, tables: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tables in Splink's order: of two linked, the left is the one whose name sorts first."""
    return sorted(tables, key=lambda table: table[1]) if _two_tables(job, tables) else tables


def _two_tables(job: JobConfig, tables: list[tuple[str, str]]) -> bool:
    return len(tables) == 2 and job.link_type == "link_only"


# Up to this many blocking rules, each rule's join leaves out the pairs of the rules before it
# (as Splink does); beyond, every rule's pairs are kept and grouped. Testing every earlier rule
# on each candidate costs little with three rules and much with nineteen, while grouping costs
# as much at any number: at a million records a side, spd-to-electoral-register's three rules
# found their pairs in 3.4-3.7 s by leaving out against 4.0-4.2 s by grouping, person-link's
# nineteen in 5.1-5.3 s against 3.0-3.4 s. In a million-person exercise (medians of four,
# alternating) grouping was the faster for every job of eight to eleven rules:
# admissions-to-council-tax (11) 1.10 s against 1.62 s, admissions-to-electoral-register (8)
# 1.17 s against 1.43 s, and 0.03-0.16 s against 0.05-0.23 s for the nine-rule jobs.
FEW_RULES = 3


def _first_rule_sql(job: JobConfig, tables: list[tuple[str, str]], chunk: tuple[tuple[int, int], tuple[int, int]]) -> str:
    """(rule, pair): each pair the rules find among the ``tables`` (in Splink's order) once,
    with the first rule that finds it."""
    if len(job.blocking_rules) <= FEW_RULES:
        return _found_sql(job, tables, chunk, leave_out=True)
    return f"SELECT min(rule) AS rule, pair FROM ({_found_sql(job, tables, chunk)}) GROUP BY pair"


def _found_sql(
    job: JobConfig, tables: list[tuple[str, str]], chunk: tuple[tuple[int, int], tuple[int, int]], leave_out: bool = False
) -> str:
    """Each (rule, packed pair) that a rule's join finds among the ``tables`` (in Splink's order),
    oriented as Splink compares it: a pair once for every rule that finds it, or (``leave_out``)
    once, with the first rule that finds it."""
    rules = [job.scoped(rule) for rule in job.blocking_rules] or ["1=1"]
    if _two_tables(job, tables):
        source_l, source_r = f"{tables[0][0]} AS l", f"{tables[1][0]} AS r"
        keep = ""
    else:
        # One table (a dedupe) or several bodies: every pair once, in the order Splink keeps it.
        union = " UNION ALL ".join(
            f"SELECT {literal(display)} AS source_dataset, * FROM {table}" for table, display in tables
        )
        source_l, source_r = f"({union}) AS l", f"({union}) AS r"
        if job.link_type == "dedupe_only":
            keep = "l.unique_id < r.unique_id"
        else:
            keep = (
                f"l.source_dataset <> r.source_dataset AND l.source_dataset || '{KEY_SEPARATOR}' || l.unique_id"
                f" < r.source_dataset || '{KEY_SEPARATOR}' || r.unique_id"
            )
    for side, (part, of) in zip(("l", "r"), chunk, strict=True):
        if of > 1:
            keep += (" AND " if keep else "") + f"hash({side}.unique_id) % {of} = {part - 1}"

    def where(k: int) -> str:
        conditions = [keep] if keep else []
        if leave_out and k:
            conditions.append(f"NOT ({' OR '.join(f'coalesce(({rule}), false)' for rule in rules[:k])})")
        return f" WHERE {' AND '.join(conditions)}" if conditions else ""

    return " UNION ALL ".join(
        f"SELECT {k} AS rule, (l.unique_id << 32) | r.unique_id AS pair FROM {source_l} JOIN {source_r} ON {rule}{where(k)}"
        for k, rule in enumerate(rules)
    )


def blocked_pairs_sql(
    job: JobConfig,
    tables: list[tuple[str, str]],
    name: str,
    chunk: tuple[tuple[int, int], tuple[int, int]] = ((1, 1), (1, 1)),
) -> str:
    """SQL creating table ``name``: the job's blocked pairs among the linkage ``tables``
    ((table, display name) pairs), or those of one ``chunk`` ((left chunk, of), (right chunk,
    of), each counted from 1), as Splink would find them with the job's link type."""
    return (
        f"CREATE OR REPLACE TABLE {name} AS "
        f"SELECT CAST(rule AS VARCHAR) AS match_key, pair >> 32 AS join_key_l, pair & {_LOW} AS join_key_r "
        f"FROM ({_first_rule_sql(job, _ordered(job, tables), chunk)} ORDER BY pair)"
    )


def compute_blocked_pairs(
    con: duckdb.DuckDBPyConnection,
    job: JobConfig,
    tables: list[tuple[str, str]],
    name: str,
    chunk: tuple[tuple[int, int], tuple[int, int]] = ((1, 1), (1, 1)),
) -> dict[int, int]:
    """Create table ``name`` of blocked pairs; return how many pairs each rule (by index) found."""
    con.execute(blocked_pairs_sql(job, tables, name, chunk))
    return {int(k): int(n) for k, n in con.execute(f"SELECT match_key, count(*) FROM {name} GROUP BY 1").fetchall()}


# The memory guard blocks a sample of at most this many records of each table,
GUARD_SAMPLE_RECORDS = 20_000
# and finds the sample's pairs only when its rules' joins make at most this many candidates.
GUARD_SAMPLE_CANDIDATES = 5_000_000
# The column tagging each sampled record with its table's position.
_TABLE = "__guard_table"


def table_sizes(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> list[int]:
    """The records in each linkage table."""
    return [int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]) for table, _ in tables]


def most_pairs(job: JobConfig, tables: list[tuple[str, str]], sizes: list[int]) -> int:
    """The pairs there would be if every record were compared with every other that blocking
    may pair it with (the tables holding ``sizes`` records): no blocking can make more."""
    if _two_tables(job, tables):
        return sizes[0] * sizes[1]
    total = sum(sizes)
    return total * (total - 1) // 2


def estimate_comparisons(
    con: duckdb.DuckDBPyConnection, job: JobConfig, tables: list[tuple[str, str]], enough: int | None = None
) -> list[tuple[str, int]]:
    """Comparisons each blocking rule adds after the rules before it, estimated before any pair
    is found, so that the memory guard refuses a blocking that would explode in seconds.

    Works on a sample of each table: all of it up to ``GUARD_SAMPLE_RECORDS`` records, else
    about that many drawn by a hash of their ids (the same records every run), each standing
    for the records it was drawn from (a small table is never thinned at a large one's rate,
    which could leave none of it). First, one join of
    block sizes per rule counts the candidates the rule's join would make (its blocks' sizes
    multiplied, before the pairs of earlier rules or a pair's other orientation are taken
    out): at least what the rule adds. When they come to no more than ``enough`` in all (the
    caller needs to know only that they are few), they are the estimate. Else the sample's
    pairs are found, each with the first rule that finds it, unless the sample's candidates
    are more than ``GUARD_SAMPLE_CANDIDATES``: then the candidates stay the estimate, since
    they are what blocking would have to enumerate, which is what makes a run slow, and a rule
    pairing whole tables is refused without any join being run.

    Across several bodies a record's table is its id modulo the number of tables, as
    ``linkage_tables(..., row_ids=True)`` numbers them, with the tables in its order.
    """
    tables = _ordered(job, tables)
    sizes = [int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]) for table, _ in tables]
    per_million = [1_000_000 if n <= GUARD_SAMPLE_RECORDS else round(GUARD_SAMPLE_RECORDS / n * 1_000_000) for n in sizes]
    weight = [1_000_000 / p for p in per_million]  # the records a sampled record stands for
    columns = ", ".join(["unique_id", *(f'"{c}"' for c in sorted(_columns(job)))])
    sample, made = tables, []
    if min(per_million) < 1_000_000:  # every table copied (whole or drawn), so all have the same columns
        made = [(f"guard_sample_{i}", f"SELECT {columns} FROM {table} WHERE hash(unique_id) % 1000000 < {p}")
                for i, ((table, _), p) in enumerate(zip(tables, per_million, strict=True))]
        sample = [(name, display) for (name, _), (_, display) in zip(made, tables, strict=True)]
    try:
        create_tables(con, made)
        rows = con.execute(_candidates_sql(job, sample, weight)).fetchall()
        found = {int(rule): float(estimate) for rule, estimate, _ in rows}
        few = enough is not None and sum(found.values()) <= enough
        if not few and sum(int(raw) for _, _, raw in rows) <= GUARD_SAMPLE_CANDIDATES:
            # A pair stands for the pairs of its two records' tables.
            if _two_tables(job, tables):
                pair_weight = f"CAST({weight[0] * weight[1]} AS DOUBLE)"
            else:
                ws = f"[{', '.join(f'CAST({w} AS DOUBLE)' for w in weight)}]"
                pair_weight = f"{ws}[(pair >> 32) % {len(tables)} + 1] * {ws}[(pair & {_LOW}) % {len(tables)} + 1]"
            found = {int(rule): float(estimate) for rule, estimate in con.execute(
                f"SELECT rule, sum({pair_weight}) FROM ({_first_rule_sql(job, sample, ((1, 1), (1, 1)))}) GROUP BY rule"
            ).fetchall()}
    finally:
        for name, _ in made:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return [(rule, round(found.get(k, 0.0))) for k, rule in enumerate(job.blocking_rules)]


def _candidates_sql(job: JobConfig, tables: list[tuple[str, str]], weight: list[float]) -> str:
    """(rule, candidates, sampled candidates): the pairs each rule's join makes among the
    ``tables`` (in Splink's order) before any are taken out, from the sizes of its blocks
    (each record counted ``weight`` times for its table). A block is the records sharing
    the values of the rule's equalities between a left and a right expression, compared as
    the join compares them; a rule with none pairs every record with every other."""
    union = " UNION ALL ".join(
        f"SELECT {i} AS {_TABLE}, CAST({w} AS DOUBLE) AS __guard_weight, * FROM {table}"
        for i, ((table, _), w) in enumerate(zip(tables, weight, strict=True))
    )
    if _two_tables(job, tables):
        paired = f"a.{_TABLE} = 0 AND b.{_TABLE} = 1"
    else:
        paired = f"a.{_TABLE} <> b.{_TABLE}" if job.link_type == "link_only" else "true"
    parts = []
    for k, rule in enumerate(job.blocking_rules):
        keys = _equalities(job.scoped(rule))

        def blocks(side: int, keys: list[tuple[str, str]] = keys) -> str:
            cols = "".join(f", {pair[side]} AS k{i}" for i, pair in enumerate(keys))
            return f"SELECT {_TABLE}{cols}, sum(__guard_weight) AS n, count(*) AS c FROM ({union}) GROUP BY ALL"

        on = " AND ".join([*(f"a.k{i} = b.k{i}" for i in range(len(keys))), paired])
        parts.append(f"SELECT {k} AS rule, coalesce(sum(a.n * b.n), 0), coalesce(sum(a.c * b.c), 0) FROM ({blocks(0)}) a JOIN ({blocks(1)}) b ON {on}")
    return " UNION ALL ".join(parts)


def _columns(job: JobConfig) -> set[str]:
    """The columns the job's blocking rules read."""
    return {c.name for rule in job.blocking_rules for c in parse_condition(job.scoped(rule)).find_all(exp.Column)}


def _equalities(rule: str) -> list[tuple[str, str]]:
    """The (left, right) expressions a rule's top-level equalities between the two records
    join on, over the linkage tables' bare column names."""
    def conjuncts(node: exp.Expr) -> list[exp.Expr]:
        if isinstance(node, exp.Paren):
            return conjuncts(node.this)
        if isinstance(node, exp.And):
            return conjuncts(node.left) + conjuncts(node.right)
        return [node]

    def bare(node: exp.Expr) -> str:
        return node.transform(lambda n: exp.column(n.name, quoted=True) if isinstance(n, exp.Column) else n).sql("duckdb")

    found = []
    for node in conjuncts(parse_condition(rule)):
        if isinstance(node, exp.EQ):
            sides = [{c.table for c in part.find_all(exp.Column)} for part in (node.left, node.right)]
            if sides == [{"l"}, {"r"}]:
                found.append((bare(node.left), bare(node.right)))
            elif sides == [{"r"}, {"l"}]:
                found.append((bare(node.right), bare(node.left)))
    return found
