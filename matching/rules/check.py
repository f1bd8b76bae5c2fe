"""Checking a job's SQL before it runs.

A rule (and every other SQL snippet in a job config: priority expressions, explanation
values) must be a single expression over known columns of the left (``l.``) and right
(``r.``) records, the pair's scores (``match_probability``, ``match_weight``, ``mw_*``),
the run date ``as_at``, literals, operators, CASE and an allow-list of functions. No
subqueries, no statements, no unknown names: a config cannot read or change anything else.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp

from matching.errors import ConfigError
from matching.wording import did_you_mean

# Expression node types a rule may contain, beyond columns, literals and allowed functions.
_ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.And, exp.Or, exp.Not, exp.Xor,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between,
    exp.NullSafeEQ, exp.NullSafeNEQ, exp.Like, exp.ILike,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.IntDiv, exp.DPipe,
    exp.Case, exp.If, exp.Cast, exp.TryCast, exp.DataType, exp.DataTypeParam,
    exp.Interval, exp.Var, exp.Tuple,
)

# Functions by their sqlglot class, and by name for those sqlglot leaves anonymous.
_ALLOWED_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Coalesce, exp.Greatest, exp.Least, exp.Abs, exp.Round, exp.Floor, exp.Ceil,
    exp.DateDiff, exp.DateAdd, exp.DateSub, exp.CurrentDate, exp.Lower, exp.Upper,
    exp.Length, exp.Nullif, exp.Trim, exp.Substring, exp.Concat, exp.ConcatWs,
    exp.Year, exp.Month, exp.Day, exp.Extract, exp.StrPosition, exp.Left, exp.Right,
    exp.Levenshtein, exp.JarowinklerSimilarity, exp.StartsWith, exp.DateTrunc,
    exp.Date, exp.ToChar, exp.TimeToStr, exp.StrToDate, exp.Sqrt, exp.Pow, exp.Sign, exp.DateFromParts,
    exp.Contains, exp.EndsWith, exp.RegexpLike, exp.SplitPart,
    # A looked-up list (datasets.lookups list = true): list_contains(r.electors_email, l.email),
    # array_length(l.electors_surname) (sqlglot reads array_length as ArraySize).
    exp.ArrayContains, exp.ArraySize,
)
_ALLOWED_ANONYMOUS = {
    "damerau_levenshtein", "jaro_similarity", "jaro_winkler_similarity", "ends_with",
    "contains", "date_part", "datediff", "make_date", "strftime",
}
FORBIDDEN_IN_PRIORITY = ("age", "sex", "gender", "ethnic", "nationality", "disab", "language", "religio")
# Columns refused in priority by their whole name: a title (Mr, Mrs, Miss) says a person's sex
# and marital status, and may tell two people apart in a rule, never weigh an inconsistency
# (a job title, or a title deed, is another matter).
FORBIDDEN_COLUMNS_IN_PRIORITY = ("title",)


@dataclass(frozen=True)
class Columns:
    """The names a job's SQL may use."""

    left: frozenset[str]
    right: frozenset[str]
    pair: frozenset[str]  # match_probability, match_weight, mw_* ...
    free: frozenset[str] = frozenset({"as_at"})


def _describe(node: Any) -> str:
    return node.sql(dialect="duckdb")[:80]


def check_expression(
    sql: str,
    columns: Columns,
    *,
    where: str,
    personal_characteristics_forbidden: bool = False,
) -> exp.Expression:
    """Parse ``sql`` as one DuckDB expression and accept it only if every node is allowed.

    ``where`` names the file and key for the message (``configs/jobs/x.toml: rule.where``).
    """
    if not sql or not sql.strip():
        raise ConfigError(f"{where}: is empty.\n  Fix: write a SQL expression over l. and r. columns.")
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: is not valid SQL: {first}\n  Fix: correct the expression.") from None
    statements = [p for p in parsed if p is not None]
    if len(statements) != 1:
        raise ConfigError(f"{where}: must be a single expression, found {len(statements)} statements.")
    tree: exp.Expression = statements[0]  # type: ignore[assignment]
    if isinstance(tree, exp.Query | exp.DML | exp.DDL | exp.Command) or tree.find(exp.Query, exp.Subquery):
        raise ConfigError(
            f"{where}: subqueries and statements are not allowed: {_describe(tree)}\n"
            "  Fix: write a single expression over l. and r. columns, e.g. l.claim_end_date > r.date_of_death."
        )
    for node in tree.walk():
        if isinstance(node, exp.Column):
            _check_column(node, columns, where, personal_characteristics_forbidden)
        elif isinstance(node, exp.Anonymous):
            if node.name.lower() not in _ALLOWED_ANONYMOUS:
                raise ConfigError(_unknown_function(node.name, where))
        elif isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_FUNCTIONS + _ALLOWED_NODES):
            raise ConfigError(_unknown_function(node.sql_name(), where))
        elif not isinstance(node, _ALLOWED_NODES + _ALLOWED_FUNCTIONS):
            raise ConfigError(
                f"{where}: '{_describe(node)}' ({type(node).__name__}) is not allowed in a rule.\n"
                "  Fix: use columns, literals, operators, CASE and the allowed functions."
            )
    return tree


# Functions that reach outside the records (files, the environment, settings, other queries):
# never in a job's SQL, whatever part of the config it is in.
_OUTSIDE = ("read_", "write_", "glob", "getenv", "sniff_", "parquet_", "query", "current_setting", "duckdb_", "pragma_", "install", "load_", "attach", "copy")


@cache
def parse_sql(sql: str) -> tuple[exp.Expr, ...]:
    """The statements of a piece of DuckDB SQL, parsed once a process: a job's blocking rules
    and levels are parsed on load to check them, then again to find their columns, their
    equalities and their Spark form. The trees are shared: copy one before changing it."""
    return tuple(p for p in sqlglot.parse(sql, read="duckdb") if p is not None)


def parse_condition(sql: str) -> exp.Expr:
    """One checked condition's tree (``check_linkage_sql`` has refused anything else)."""
    (tree,) = parse_sql(sql)
    return tree


def check_linkage_sql(sql: str, *, where: str) -> None:
    """Check a blocking rule or a comparison level's condition before Splink runs it: one
    expression, no subqueries or statements, no function that reaches outside the records.
    (Its columns are Splink's to resolve, ``l.x``/``r.x`` or ``x_l``/``x_r``; a column no
    dataset has is named when the job runs.)"""
    if not sql or not sql.strip():
        raise ConfigError(f"{where}: is empty.\n  Fix: write a SQL condition, e.g. l.dob = r.dob.")
    try:
        parsed = parse_sql(sql)
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: is not valid SQL: {first}\n  Fix: correct the condition: {sql}") from None
    if len(parsed) != 1:
        raise ConfigError(f"{where}: must be a single condition, found {len(parsed)} statements.\n  Fix: remove the ';' and what follows.")
    tree = parsed[0]
    if isinstance(tree, exp.Query | exp.DML | exp.DDL | exp.Command) or tree.find(exp.Query, exp.Subquery):
        raise ConfigError(f"{where}: subqueries and statements are not allowed: {_describe(tree)}\n  Fix: compare the two records' columns.")
    for node in tree.find_all(exp.Func):
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        if name.startswith(_OUTSIDE):
            raise ConfigError(f"{where}: function '{name}' reads outside the records and is not allowed.\n  Fix: compare the two records' columns.")


def _unknown_function(name: str, where: str) -> str:
    allowed = sorted({c.sql_names()[0].lower() for c in _ALLOWED_FUNCTIONS} | _ALLOWED_ANONYMOUS)  # type: ignore[attr-defined]
    close = difflib.get_close_matches(name.lower(), allowed, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    return (
        f"{where}: function '{name}' is not allowed.{hint}\n"
        f"  Allowed functions: {', '.join(allowed)}"
    )


def refuse_personal_characteristics(tree: exp.Expression, where: str, also: tuple[str, ...] = ()) -> None:
    """Refuse a priority expression that reads a personal characteristic: checked again once
    named values are substituted, so that a value cannot carry one in under another name.
    ``also``: further words refused here (a date of birth may date when an inconsistency began,
    the day someone turned 18, but may not weigh the money at stake)."""
    for node in tree.find_all(exp.Column):
        if node.name.lower() in FORBIDDEN_COLUMNS_IN_PRIORITY or any(word in node.name.lower() for word in FORBIDDEN_IN_PRIORITY + also):
            raise ConfigError(
                f"{where}: '{node.sql()}' is a personal characteristic; priority may rest only on the "
                "evidence of the match (identifier agreement, duration, money at stake).\n"
                "  Fix: remove it from the priority."
            )


def _check_column(node: exp.Column, columns: Columns, where: str, no_personal: bool) -> None:
    table = node.table
    name = node.name
    if no_personal:
        refuse_personal_characteristics(node, where)
    if table == "l":
        known, side = columns.left, "left"
    elif table == "r":
        known, side = columns.right, "right"
    elif table == "":
        known, side = columns.pair | columns.free, "pair"
    else:
        raise ConfigError(
            f"{where}: '{node.sql()}' refers to table '{table}'; only l. (left record) and r. (right record) exist."
        )
    if name not in known:
        hint = did_you_mean(name, known)
        prefix = f"{table}." if table else ""
        raise ConfigError(
            f"{where}: unknown column '{prefix}{name}' ({side}).{hint}\n"
            f"  Columns: {', '.join(sorted(known))}"
        )


def referenced_columns(tree: exp.Expression) -> Iterable[tuple[str, str]]:
    """(table, column) pairs an expression reads."""
    for node in tree.find_all(exp.Column):
        yield node.table, node.name


def to_sql(tree: exp.Expression, as_at: str | None = None) -> str:
    """The checked expression as DuckDB SQL, with ``as_at`` bound to a date literal.

    The SQL that runs is generated from the checked tree, never the config's text, so what
    was checked is exactly what runs.
    """
    tree = tree.copy()
    if as_at is not None:
        literal = exp.cast(exp.Literal.string(as_at), exp.DataType.build("DATE"))

        def bind(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and not node.table and node.name == "as_at":
                return literal.copy()
            return node

        tree = tree.transform(bind)
    return tree.sql(dialect="duckdb")
