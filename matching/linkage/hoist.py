"""Work a comparison's per-record parts out once per record, not once per pair.

A comparison level such as "same house number" compares ``regexp_extract_all(address_l, …)``
with ``regexp_extract_all(address_r, …)``: each side's value depends on that record alone,
yet Splink's SQL works it out for every pair the record is in, and again in every level that
names it (person-link's address comparison does so in three levels). At a million people a
side that was 5 of the 8 seconds of scoring, spent on regular expressions.

``hoist`` finds such parts in a settings dictionary's levels: the largest expression around a
costly function (a regular expression, or a date written as text) whose columns are all of
one side, taking in only what cannot fail on any record. It replaces each with a column of
its own (``per_record_<hash>_l`` and ``_r``) and returns those columns' SQL over the
records' own columns, which views over the linkage tables add
(``matching.linkage.inputs.with_per_record``). The levels mean exactly what they meant, so
the trained m and u still apply: only where the work is done changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlglot
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

# What a part may take in around a costly call: calls that give a value for any value they are
# given (case, trimming, brackets), so a part worked out for every record, not only for those
# whose pairs reach its level, can never fail where the level as written would not have. Never
# a CASE branch, a cast, arithmetic or a lambda.
WRAPPERS: tuple[type[exp.Expression], ...] = (*COSTLY, exp.Lower, exp.Upper, exp.Trim, exp.Paren)


def _safe(node: exp.Expression) -> bool:
    """A column, a literal, or a WRAPPERS call of them whose other arguments (a pattern, a
    replacement, a format, flags) are literals: fine to work out for every record."""
    if isinstance(node, exp.Column | exp.Literal):
        return True
    if not isinstance(node, WRAPPERS):
        return False
    for key, value in node.args.items():
        if key == "this":
            if value is None or not _safe(value):
                return False
        elif not (value is None or isinstance(value, bool | str | exp.Literal)):  # str: a keyword (LEADING)
            return False
    return True


def _side(node: exp.Expression) -> str | None:
    """'l' or 'r' when every column ``node`` reads is of that side (``x_l`` or ``x_r``); else None."""
    sides = set()
    for col in node.find_all(exp.Column):
        name = col.name
        if col.table or not name.endswith(("_l", "_r")):
            return None  # a qualified column: left to Splink
        sides.add(name[-1])
    return sides.pop() if len(sides) == 1 else None


def _part(node: exp.Expression) -> tuple[exp.Expression, str] | None:
    """The part to work out once per record around the costly call ``node`` (the largest safe
    one-sided expression holding it) and its side; None when there is none."""
    side = _side(node)
    if side is None or not _safe(node) or node.find_ancestor(exp.Lambda) is not None:
        return None
    top = node
    while isinstance(top.parent, WRAPPERS) and _safe(top.parent) and _side(top.parent) == side:
        top = top.parent
    return top, side


def _neutral(node: exp.Expression) -> str:
    """``node``'s SQL over the record's own columns (``address_l`` read as ``address``)."""
    copy = node.copy()
    for col in copy.find_all(exp.Column):
        col.replace(exp.column(col.name[:-2], quoted=col.this.quoted))
    return copy.sql(dialect="duckdb")


def hoist(settings: dict[str, Any]) -> dict[str, str]:
    """Rewrite ``settings``' comparison levels (in place) to read per-record columns; return
    each such column's name and its SQL over a record's columns. A level that would not read
    back as one condition after the change is left as written."""
    columns: dict[str, str] = {}
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            sql = level.get("sql_condition")
            if level.get("is_null_level") or not isinstance(sql, str) or sql.strip().upper() == "ELSE":
                continue
            tree = parse_condition(sql).copy()  # parse_condition shares its trees: change a copy
            parts: dict[int, tuple[exp.Expression, str]] = {}
            for node in tree.find_all(*COSTLY):
                found = _part(node)
                if found is not None:
                    parts[id(found[0])] = found  # every costly call in a part finds the same part
            if not parts:
                continue
            mine: dict[str, str] = {}
            for top, side in parts.values():
                sql_neutral = _neutral(top)
                name = PREFIX + hashlib.sha256(sql_neutral.encode()).hexdigest()[:10]
                mine[name] = sql_neutral
                replacement = exp.column(f"{name}_{side}")
                if top is tree:
                    tree = replacement
                else:
                    top.replace(replacement)
            rewritten = tree.sql(dialect="duckdb")
            try:
                sqlglot.parse_one(rewritten, read="duckdb")
            except sqlglot.errors.ParseError:
                continue
            level["sql_condition"] = rewritten
            columns |= mine
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
