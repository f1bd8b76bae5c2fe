"""Work a comparison's per-record parts out once per record, not once per pair.

A comparison level such as "same house number" compares ``regexp_extract_all(address_l, …)``
with ``regexp_extract_all(address_r, …)``: each side's value depends on that record alone,
yet Splink's SQL works it out for every pair the record is in, and again in every level that
names it (person-link's address comparison does so in three levels). At a million people a
side that was 5 of the 8 seconds of scoring, spent on regular expressions.

``hoist`` finds such parts in a settings dictionary's levels: the largest expression around a
costly function (a regular expression, or a date written as text) whose columns are all of
one side. It replaces each with a column of its own (``per_record_<hash>_l`` and ``_r``) and
returns those columns' SQL over the records' own columns, for the linkage tables to compute
once per record. The levels mean exactly what they meant, so the trained m and u still apply:
only where the work is done changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlglot import exp

from matching.rules.check import parse_condition

# Functions costly enough per call to be worth a column: regular expressions, and dates
# written out as text (a date comparison's edit distance on 'YYYYMMDD').
COSTLY: tuple[type[exp.Expression], ...] = (
    exp.RegexpExtract,
    exp.RegexpExtractAll,
    exp.RegexpLike,
    exp.RegexpILike,
    exp.RegexpReplace,
    exp.RegexpSplit,
    exp.RegexpCount,
    exp.RegexpFullMatch,
    exp.TimeToStr,
)

PREFIX = "per_record_"


def _side(node: exp.Expression) -> str | None:
    """'l' or 'r' when every column ``node`` reads is of that side (``x_l`` or ``x_r``); else None."""
    sides = set()
    for col in node.find_all(exp.Column):
        name = col.name
        if col.table or not name.endswith(("_l", "_r")):
            return None  # a qualified column, or a lambda's variable: leave it where it is
        sides.add(name[-1])
    return sides.pop() if len(sides) == 1 else None


def _largest_one_sided(node: exp.Expression, side: str) -> exp.Expression:
    """The largest expression around ``node`` that still reads only ``side``'s columns."""
    top = node
    while isinstance(top.parent, exp.Expression) and _side(top.parent) == side:
        top = top.parent
    return top


def _neutral(node: exp.Expression) -> str:
    """``node``'s SQL over the record's own columns (``address_l`` read as ``address``)."""
    copy = node.copy()
    for col in copy.find_all(exp.Column):
        col.replace(exp.column(col.name[:-2], quoted=col.this.quoted))
    return copy.sql(dialect="duckdb")


def hoist(settings: dict[str, Any]) -> dict[str, str]:
    """Rewrite ``settings``' comparison levels (in place) to read per-record columns; return
    each such column's name and its SQL over a record's columns."""
    columns: dict[str, str] = {}
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            sql = level.get("sql_condition")
            if level.get("is_null_level") or not isinstance(sql, str) or sql.strip().upper() == "ELSE":
                continue
            tree = parse_condition(sql).copy()  # parse_condition shares its trees: change a copy
            tops: dict[int, tuple[exp.Expression, str]] = {}
            for node in tree.find_all(*COSTLY):
                side = _side(node)
                if side is not None:
                    # Every part inside a one-sided expression climbs to the same top.
                    top = _largest_one_sided(node, side)
                    tops[id(top)] = (top, side)
            if not tops:
                continue
            for top, side in tops.values():
                sql_neutral = _neutral(top)
                name = PREFIX + hashlib.sha256(sql_neutral.encode()).hexdigest()[:10]
                columns[name] = sql_neutral
                replacement = exp.column(f"{name}_{side}")
                if top is tree:
                    tree = replacement
                else:
                    top.replace(replacement)
            level["sql_condition"] = tree.sql(dialect="duckdb")
    return columns


def level_sql(settings: dict[str, Any]) -> list[list[Any]]:
    """Every comparison level's condition, to put back with ``restore`` after ``hoist``."""
    return [[level.get("sql_condition") for level in c["comparison_levels"]] for c in settings["comparisons"]]


def restore(model: dict[str, Any], sql: list[list[Any]]) -> dict[str, Any]:
    """``model`` (trained on hoisted settings) with its levels' conditions as written before
    ``hoist``: a saved model reads the records' own columns, as any Splink script expects."""
    for comparison, conditions in zip(model["comparisons"], sql, strict=True):
        for level, condition in zip(comparison["comparison_levels"], conditions, strict=True):
            level["sql_condition"] = condition
    return model
