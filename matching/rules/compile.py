"""Turning a job's rule, explanation and priority into checked DuckDB SQL.

Everything here runs after linkage, over the scored pairs joined to both records
(``l.*`` and ``r.*``), on DuckDB whichever backend did the linking.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from matching.errors import ConfigError
from matching.rules.check import Columns, check_expression, refuse_personal_characteristics, to_sql

if TYPE_CHECKING:
    from matching.jobs.config import JobConfig
    from matching.specs import DatasetSpec

# How much each kind of evidence counts towards priority (renormalised over those a job has).
PRIORITY_WEIGHTS = {"match": 40.0, "identifiers": 25.0, "duration": 15.0, "money": 20.0}
UNKNOWN_MONEY = 0.5  # the money part of a job without money_pence
# The match part counts in full from a match weight of log2(10,000): odds of 10,000 to 1 that
# the two records are one person (match probability 0.9999). Beyond that, more agreement does
# not make an inconsistency more worth investigating: counted up to a weight of 25, a £16
# duplicate payment whose purchase-order number also agreed outranked a £22,000 one from a
# body that records none, though both were certain.
MATCH_WEIGHT_IN_FULL = math.log2(10_000)
# Bands: in a job that weighs all four parts, a match all but certain and agreeing on every
# strong identifier scores 65 from its evidence alone (40 + 25), so that is where medium
# begins; high needs what is at stake as well: 15 more of money and duration's 35 (about
# £1,000 over three months). Below 65 the two records may well not be one person. With high
# from 65, nine in ten inconsistencies of the synthetic exercise were high, and the band told
# an investigator nothing.
BANDS = ((80.0, "high"), (65.0, "medium"), (0.0, "low"))
# A placeholder's formats: a date written out, pence as pounds, a count of days ("1 day",
# "1,234 days") and a number with thousands separators.
EXPLANATION_FORMATS = ("date", "money", "days", "number")
_PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")  # "[ from {r.date_started:date}]": left out when a value inside is missing


# The DuckDB type ingest gives each field type; derived columns (name parts, phonetic keys,
# postcode and address parts) are text. tests/jobs/test_columns.py checks this against
# what standardise really writes, for every kind.
SQL_TYPES = {"date": "DATE", "uprn": "BIGINT", "money_pence": "BIGINT", "flag": "BOOLEAN", "number": "DOUBLE"}


@cache
def dataset_column_types(spec: DatasetSpec) -> dict[str, str]:
    """Column -> DuckDB type of a standardised dataset of this kind, as ingest writes it."""
    from matching.ingest.standardise import household, output_columns

    by_field = {f.name: SQL_TYPES.get(f.type, "VARCHAR") for f in spec.fields}
    types = {"record_id": "VARCHAR"}
    for col in output_columns(spec):
        if col == "_defects":
            continue
        types[col] = "BIGINT" if col == "_row" else by_field.get(col, "VARCHAR")
    if spec.household:
        types[household.COLUMN] = household.TYPE
    types.update({"submission_id": "VARCHAR", "body": "VARCHAR", "kind": "VARCHAR"})
    return types


def pounds_sql(pence: str) -> str:
    """Pence as a reviewer reads money: 123456 -> '£1,234.56', -5 -> '-£0.05' (NULL stays NULL)."""
    value = f"CAST(({pence}) AS BIGINT)"
    return (f"CASE WHEN {value} < 0 THEN '-' ELSE '' END || '£' || "
            f"format('{{:,.2f}}', CAST(abs({value}) AS DECIMAL(18, 0)) / 100)")


def date_sql(value: str) -> str:
    """A date as a reviewer reads it: '1 February 1980'."""
    return f"strftime(CAST(({value}) AS DATE), '%-d %B %Y')"


@dataclass(frozen=True)
class CompiledJob:
    """A job's post-linkage SQL, checked. ``as_at`` is bound when the run knows its date."""

    rule: exp.Expression
    also_linked: exp.Expression | None  # rule.not_if_also_linked, over the other link
    set_aside_unless: exp.Expression | None  # rule.set_aside_unless, over the inconsistency's own pair
    values: dict[str, exp.Expression]
    # (literal, expr name, format, optional segment number or None): see explanation_sql
    explanation_parts: tuple[tuple[str, str | None, str | None, int | None], ...]
    since: exp.Expression | None
    until: exp.Expression | None
    money: exp.Expression | None
    identifiers: dict[str, exp.Expression]
    columns: Columns
    _sql: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)

    def sql(self, key: str, as_at: str) -> str:
        """One snippet as DuckDB SQL with ``as_at`` bound: ``rule``, ``values.NAME``, ``since``,
        ``until``, ``money``, ``also_linked`` or ``set_aside_unless``. Generated once for each
        date: the check before a run (``check_types``) and the run's rule stage share it."""
        made = self._sql.get((key, as_at))
        if made is None:
            tree = self.values[key[7:]] if key.startswith("values.") else getattr(self, key)
            made = self._sql[(key, as_at)] = to_sql(tree, as_at)
        return made

    def rule_sql(self, as_at: str) -> str:
        return self.sql("rule", as_at)

    def value_sql(self, name: str, as_at: str) -> str:
        return self.sql(f"values.{name}", as_at)

    def explanation_sql(self, as_at: str) -> str:  # formats: EXPLANATION_FORMATS
        """One SQL expression building the explanation sentence for each pair: a missing value
        reads "not recorded", and an optional segment ("[...]" in the config) is left out
        whole when any value in it is missing."""
        pieces: list[str] = []
        optional: dict[int, tuple[list[str], list[str]]] = {}  # segment -> (its pieces, its values)
        for literal, ref, fmt, segment in self.explanation_parts:
            into = pieces
            if segment is not None:
                if segment not in optional:
                    optional[segment] = ([], [])
                    pieces.append(f"\x00{segment}")  # where the segment goes
                into = optional[segment][0]
            if literal:
                into.append("'" + literal.replace("'", "''") + "'")
            if ref is None:
                continue
            value = self.value_sql(ref, as_at)
            if fmt == "money":
                text = pounds_sql(value)
            elif fmt == "date":
                text = date_sql(value)
            elif fmt == "days":
                text = f"(CASE WHEN CAST(({value}) AS BIGINT) IN (1, -1) THEN CAST(CAST(({value}) AS BIGINT) AS VARCHAR) || ' day' ELSE format('{{:,}}', CAST(({value}) AS BIGINT)) || ' days' END)"
            elif fmt == "number":  # a whole number without ".0" (37 hours, not 37.0)
                text = (f"(CASE WHEN ({value}) = round(({value})) AND abs(({value})) < 1e18 "
                        f"THEN format('{{:,}}', CAST(round(({value})) AS BIGINT)) ELSE format('{{:,}}', ({value})) END)")
            else:
                text = f"CAST(({value}) AS VARCHAR)"
            if segment is None:
                into.append(f"coalesce({text}, 'not recorded')")
            else:
                into.append(text)
                optional[segment][1].append(text)
        out = []
        for piece in pieces:
            if piece.startswith("\x00"):
                inner, texts = optional[int(piece[1:])]
                present = " AND ".join(f"({t}) IS NOT NULL" for t in texts) or "true"
                out.append(f"CASE WHEN {present} THEN concat({', '.join(inner) or repr('')}) ELSE '' END")
            else:
                out.append(piece)
        return "concat(" + ", ".join(out) + ")" if out else "''"

    def priority_sql(self, as_at: str) -> tuple[str, str]:
        """SQL for (priority score 0-100, band) from the evidence of the match only."""
        parts: list[tuple[float, str]] = [
            (PRIORITY_WEIGHTS["match"], f"least(greatest(match_weight, 0) / {MATCH_WEIGHT_IN_FULL!r}, 1.0)")
        ]
        if self.identifiers:
            agree = " + ".join(f"CASE WHEN coalesce({to_sql(e)}, false) THEN 1 ELSE 0 END" for e in self.identifiers.values())
            parts.append((PRIORITY_WEIGHTS["identifiers"], f"({agree}) / {float(len(self.identifiers))}"))
        if self.since is not None:
            # how long it lasted: from `since` to `until` (when it ended), or to the as-at date
            end = f"CAST('{as_at}' AS DATE)"
            if self.until is not None:
                end = f"least(coalesce(CAST(({self.sql('until', as_at)}) AS DATE), {end}), {end})"
            days = f"greatest(date_diff('day', CAST(({self.sql('since', as_at)}) AS DATE), {end}), 0)"
            parts.append((PRIORITY_WEIGHTS["duration"], f"least(coalesce({days}, 0) / 365.0, 1.0)"))
        if self.money is not None:
            # A blank amount (a claim's weekly amount not given) is unknown, not nothing: it
            # scores the middle, as a job without money does.
            pence = f"CAST(({self.sql('money', as_at)}) AS DOUBLE)"
            scored = f"least(log10(1 + greatest({pence}, 0) / 100.0) / 5.0, 1.0)"
            parts.append((PRIORITY_WEIGHTS["money"], f"CASE WHEN {pence} IS NULL THEN {UNKNOWN_MONEY} ELSE {scored} END"))
        else:
            # A job that cannot say what is at stake scores it at the middle of the scale (as
            # about £316 would), not by leaving it out: left out, such a job reached 100 with
            # nothing at stake, above every job that could count its money.
            parts.append((PRIORITY_WEIGHTS["money"], str(UNKNOWN_MONEY)))
        total = sum(w for w, _ in parts)
        score = "round(100.0 * (" + " + ".join(f"{w} * {sql}" for w, sql in parts) + f") / {total}, 1)"
        band = "CASE " + " ".join(f"WHEN {score} >= {t} THEN '{b}'" for t, b in BANDS[:-1]) + f" ELSE '{BANDS[-1][1]}' END"
        return score, band


def _pair_columns(job: JobConfig) -> frozenset[str]:
    names = {"match_probability", "match_weight"}
    for c in job.comparisons:
        names |= {f"mw_{c.name}", f"gamma_{c.name}"}
    return frozenset(names)


def _substitute(tree: exp.Expression, values: dict[str, exp.Expression]) -> exp.Expression:
    """Replace bare names of values with their (already expanded) expressions."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return exp.Paren(this=values[node.name].copy())
        return node

    return tree.transform(swap)


def _expand(values: dict[str, exp.Expression], where: str) -> dict[str, exp.Expression]:
    """Expand values that use other values, in dependency order; a cycle is a config error."""
    done: dict[str, exp.Expression] = {}
    visiting: set[str] = set()

    def expand(key: str) -> exp.Expression:
        if key in done:
            return done[key]
        if key in visiting:
            raise ConfigError(f"{where}: rule.values.{key}: refers to itself through other values.\n  Fix: break the cycle.")
        visiting.add(key)
        deps = {c.name for c in values[key].find_all(exp.Column) if not c.table and c.name in values}
        resolved = {d: expand(d) for d in deps}
        done[key] = _substitute(values[key], resolved)
        visiting.discard(key)
        return done[key]

    for key in values:
        expand(key)
    return done


def _no_stray_brace(name: str, text: str) -> None:
    """Explanation text between placeholders holds no brace: one would reach investigators as
    written (a mistyped placeholder such as {r.date_of_death:dat})."""
    if "{" in text or "}" in text:
        raise ConfigError(f"{name}: rule.explanation: a '{{' or '}}' is not part of a {{placeholder}}.\n  Fix: write placeholders as {{l.column}}, {{r.column}} or {{value_name}}.")


def _segments(name: str, explanation: str) -> list[tuple[str, bool]]:
    """The explanation as (text, optional) segments: "[...]" is optional, the rest is not."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _OPTIONAL.finditer(explanation):
        out += [(explanation[pos : m.start()], False), (m.group(1), True)]
        pos = m.end()
    out.append((explanation[pos:], False))
    for text, _ in out:
        if "[" in text or "]" in text:
            raise ConfigError(
                f"{name}: rule.explanation: a '[' or ']' does not pair up (brackets mark a part left out "
                "when a value in it is missing, and do not nest).\n  Fix: close each '[' with ']', one level deep."
            )
    return out


def compile_job(job: JobConfig) -> CompiledJob:
    """Check every SQL snippet of a job against the columns it may use."""
    columns = Columns(
        left=frozenset(job.column_types("left")),
        right=frozenset(job.column_types("right")),
        pair=_pair_columns(job),
    )
    name = str(job.path)
    # Named values may use each other and the rule may use them, as bare names.
    named = Columns(columns.left, columns.right, columns.pair, columns.free | frozenset(job.values))
    values: dict[str, exp.Expression] = {}
    for key, sql in job.values.items():
        values[key] = check_expression(sql, named, where=f"{name}: rule.values.{key}")
    values = _expand(values, name)
    rule = _substitute(check_expression(job.rule, named, where=f"{name}: rule.where"), values)
    parts: list[tuple[str, str | None, str | None, int | None]] = []
    for segment, (text, optional) in enumerate(_segments(name, job.explanation)):
        pos = 0
        group = segment if optional else None
        for m in _PLACEHOLDER.finditer(text):
            ref, fmt = m.group(1).strip(), m.group(2)
            if fmt is not None and fmt not in EXPLANATION_FORMATS:
                raise ConfigError(
                    f"{name}: rule.explanation {{{m.group(0)[1:-1]}}}: ':{fmt}' is not a format.\n"
                    f"  Fix: write {{{ref}:date}} for a date, {{{ref}:money}} for pence as pounds, {{{ref}:days}} for a "
                    f"number of days, {{{ref}:number}} for a number with thousands separators, or {{{ref}}} as it is."
                )
            literal = text[pos : m.start()]
            _no_stray_brace(name, literal)
            pos = m.end()
            if ref not in values:
                # {l.col}, {r.col} and {as_at} are shorthand for values of their own.
                values[ref] = _substitute(check_expression(ref, named, where=f"{name}: rule.explanation {{{ref}}}"), values)
            parts.append((literal, ref, fmt, group))
        parts.append((text[pos:], None, None, group))
        _no_stray_brace(name, text[pos:])
    since = (
        _substitute(check_expression(job.since, named, where=f"{name}: priority.since", personal_characteristics_forbidden=True), values)
        if job.since
        else None
    )
    until = (
        _substitute(check_expression(job.until, named, where=f"{name}: priority.until", personal_characteristics_forbidden=True), values)
        if job.until
        else None
    )
    if until is not None and since is None:
        raise ConfigError(f"{name}: priority.until: says when the inconsistency ended, but nothing says when it began.\n"
                          "  Fix: add priority.since (a SQL date), or remove priority.until.")
    money = (
        _substitute(check_expression(job.money_pence, named, where=f"{name}: priority.money_pence", personal_characteristics_forbidden=True), values)
        if job.money_pence
        else None
    )
    if since is not None:
        refuse_personal_characteristics(since, f"{name}: priority.since")
    if until is not None:
        refuse_personal_characteristics(until, f"{name}: priority.until")
    if money is not None:
        refuse_personal_characteristics(money, f"{name}: priority.money_pence", also=("dob", "birth"))
    from matching.jobs.config import STRONG_IDENTIFIERS

    identifiers = {
        s: check_expression(STRONG_IDENTIFIERS[s], columns, where=f"{name}: priority.strong_identifiers ({s})")
        for s in job.strong_identifiers
    }
    also_linked = (
        _substitute(check_expression(job.also_linked, named, where=f"{name}: rule.not_if_also_linked"), values)
        if job.also_linked
        else None
    )
    unless = (
        _substitute(check_expression(job.set_aside_unless, named, where=f"{name}: rule.set_aside_unless"), values)
        if job.set_aside_unless
        else None
    )
    _refuse_lists(job, name, [("rule.where", rule), ("rule.not_if_also_linked", also_linked), ("rule.set_aside_unless", unless),
                              ("priority.since", since), ("priority.until", until), ("priority.money_pence", money)]
                  + [(f"rule.values.{k}", values[k]) for k in job.values]
                  + [(f"rule.explanation {{{ref}}}", values[ref]) for _, ref, _, _ in parts if ref is not None])
    return CompiledJob(
        rule=rule,
        also_linked=also_linked,
        set_aside_unless=unless,
        values=values,
        explanation_parts=tuple(parts),
        since=since,
        until=until,
        money=money,
        identifiers=identifiers,
        columns=columns,
    )


# What each kind of snippet must give, as DuckDB type families ("NULL" is a bare NULL).
_BOOLEAN: tuple[str, ...] = ("BOOLEAN", '"NULL"')
_DATE: tuple[str, ...] = ("DATE", "TIMESTAMP", '"NULL"')
_WHOLE: tuple[str, ...] = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
          "UBIGINT", "UHUGEINT", '"NULL"')
_AMOUNT: tuple[str, ...] = (*_WHOLE, "FLOAT", "DOUBLE", "DECIMAL")
# What each explanation format needs of its value.
_FORMAT_WANTS = {"date": _DATE, "money": _AMOUNT, "days": _WHOLE, "number": _AMOUNT}


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.NullSafeEQ, exp.NullSafeNEQ)


def _refuse_lists(job: JobConfig, name: str, trees: list[tuple[str, exp.Expression | None]]) -> None:
    """A looked-up list (``list = true``: every value of the records with a key, the emails of
    everyone registered at a property) may be searched (``list_contains``) or counted
    (``array_length``), nothing else: compared as one value it means nothing, and shown, or
    turned into text, an explanation would print other people's details."""
    lists = {(alias, c) for alias, side in (("l", "left"), ("r", "right"))
             for c, t in job.column_types(side).items() if t.endswith("[]")}
    if not lists:
        return
    for key, tree in trees:
        if tree is None:
            continue
        for node in tree.find_all(exp.Column):
            if (node.table, node.name) not in lists:
                continue
            parent = node.parent
            if isinstance(parent, exp.ArrayContains | exp.ArraySize) and parent.this is node:
                continue
            if isinstance(parent, _COMPARISONS):
                raise ConfigError(
                    f"{name}: {key}: compares {node.sql()}, a list (every value a lookup found), as if it were one value.\n"
                    f"  Fix: list_contains({node.sql()}, value) is true when the list holds the value."
                )
            if key.startswith("rule.explanation") and node is tree:
                raise ConfigError(
                    f"{name}: {key}: {node.sql()} is a list of other people's details (everyone a lookup found), "
                    "which an explanation may not show.\n"
                    f"  Fix: say what it holds in a value, e.g. CASE WHEN list_contains({node.sql()}, ...) THEN '...' END."
                )
            raise ConfigError(
                f"{name}: {key}: {node.sql()} is a list of other people's details (every value a lookup found): it may "
                "only be searched or counted, so that no rule or explanation can turn it into text.\n"
                f"  Fix: list_contains({node.sql()}, value) is true when the list holds the value; "
                f"array_length({node.sql()}) counts its values."
            )


def check_types(job: JobConfig, as_at: str, con: Any = None) -> None:
    """Bind every snippet of the job against empty tables of its column types, as the run
    will, so a rule comparing a date with a name fails before any pair is scored, naming the
    key, not at the rule stage afterwards (an hour into a large run). Only what the data
    decides (a text that will not convert) is left to the rule stage. A run calls it with its
    as-at date, whose SQL its rule stage then reuses, and its own DuckDB connection ``con``
    (without one, a shared empty database's)."""
    compiled = job.compiled
    import duckdb

    from matching.ingest.standardise.sql import ident

    def table(alias: str, types: dict[str, str]) -> str:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {ident(c)}" for c, t in types.items())
        return f"(SELECT {cols} WHERE false) {alias}"

    pair = {"match_probability": "DOUBLE", "match_weight": "DOUBLE"}
    for c in job.comparisons:
        pair |= {f"mw_{c.name}": "DOUBLE", f"gamma_{c.name}": "INTEGER"}
    tables = f"{table('p', pair)}, {table('l', job.column_types('left'))}, {table('r', job.column_types('right'))}"
    snippets: list[tuple[str, str, tuple[str, ...] | None]] = [("rule.where", compiled.rule_sql(as_at), _BOOLEAN)]
    snippets += [(f"rule.values.{k}", compiled.value_sql(k, as_at), None) for k in job.values]
    # Each formatted value before the sentence: a date given :number is named as such, not
    # as the sentence's failure to bind.
    formatted = {(ref, fmt) for _, ref, fmt, _ in compiled.explanation_parts if ref is not None and fmt is not None}
    snippets += [(f"rule.explanation {{{ref}:{fmt}}}", compiled.value_sql(ref, as_at), _FORMAT_WANTS[fmt])
                 for ref, fmt in sorted(formatted)]
    snippets.append(("rule.explanation", compiled.explanation_sql(as_at), None))
    for key, attr, wanted in (("rule.not_if_also_linked", "also_linked", _BOOLEAN),
                            ("rule.set_aside_unless", "set_aside_unless", _BOOLEAN),
                            ("priority.since", "since", _DATE), ("priority.until", "until", _DATE),
                            ("priority.money_pence", "money", _AMOUNT)):
        if getattr(compiled, attr) is not None:
            snippets.append((key, compiled.sql(attr, as_at), wanted))
    _refuse_text_compared_with_dates_or_numbers(job, snippets)
    con = (con or _binder()).cursor()
    try:
        def describe(chosen: list[tuple[str, str, tuple[str, ...] | None]]) -> list[str]:
            select = ", ".join(f"{snippet[1]} AS x{i}" for i, snippet in enumerate(chosen))
            return [str(row[1]) for row in con.execute(f"DESCRIBE SELECT {select} FROM {tables}").fetchall()]

        def check(snippet: tuple[str, str, tuple[str, ...] | None], got: str) -> None:
            key, sql, want = snippet
            if want is _DATE and got == "VARCHAR" and _a_date_literal(con, sql):
                return  # since = "'2024-04-01'": text that is a date whatever the records say
            if want is not None and not got.startswith(want):
                raise ConfigError(
                    f"{job.path}: {key}: gives a value of type {got}, where {_WANTED[want]} is needed.\n"
                    f"  Fix: make {key.split(' ', 1)[-1] if key.startswith('rule.explanation ') else key} {_WANTED[want]}"
                    + (", or leave out its format." if key.startswith("rule.explanation ") else ".")
                )

        try:
            types = describe(snippets)  # all at once: binding each alone cost 50 ms a job
        except duckdb.Error as together:
            for snippet in snippets:  # which one, in order: a wrong type is named before what it breaks
                try:
                    (got,) = describe([snippet])
                except duckdb.Error as exc:
                    raise ConfigError(
                        f"{job.path}: {snippet[0]}: {str(exc).splitlines()[0]}\n"
                        "  Fix: compare and convert columns of the right types (`matching kinds KIND` lists each column's type)."
                    ) from None
                check(snippet, got)
            raise ConfigError(  # every snippet binds alone, but not together
                f"{job.path}: the rule, its values, explanation and priority: {str(together).splitlines()[0]}\n"
                "  Fix: compare and convert columns of the right types (`matching kinds KIND` lists each column's type)."
            ) from None
        for snippet, got in zip(snippets, types, strict=True):
            check(snippet, got)
    finally:
        con.close()


def _refuse_text_compared_with_dates_or_numbers(job: JobConfig, snippets: list[tuple[str, str, Any]]) -> None:
    """Refuse a snippet comparing a text column with a date or number column (``l.surname =
    r.dob``): DuckDB binds it, converting the text for every pair at the rule stage, and stops
    at the first that is not a date, after all the scoring. A text literal ('2024-04-01') or an
    explicit conversion is the writer's choice and passes."""
    types = {"l": job.column_types("left"), "r": job.column_types("right")}

    def kind(node: exp.Expression) -> tuple[str, str] | None:
        if isinstance(node, exp.Column) and node.table in types and node.name in types[node.table]:
            t = types[node.table][node.name].upper()
            if t.endswith("]"):
                return None  # a list (a household, a looked-up list): not a value DuckDB converts
            group = ("text" if t.startswith("VARCHAR") else "a date" if t.startswith(("DATE", "TIMESTAMP"))
                     else "a number" if t.startswith(_AMOUNT) else None)
            return (f"{node.table}.{node.name}", group) if group else None
        return None

    for key, sql, _ in snippets:
        for node in sqlglot.parse_one(sql, read="duckdb").find_all(*_COMPARISONS):
            if isinstance(node, exp.Like | exp.ILike):
                continue  # DuckDB refuses these itself, when it binds them
            a, b = kind(node.this), kind(node.expression)
            if a and b and a[1] != b[1] and "text" in (a[1], b[1]):
                raise ConfigError(
                    f"{job.path}: {key}: compares {a[0]} ({a[1]}) with {b[0]} ({b[1]}); DuckDB would convert the text "
                    "for every pair and stop at the first value that is not one.\n"
                    "  Fix: compare columns of the same type (`matching kinds KIND` lists each column's type), or "
                    "convert on purpose (try_strptime, TRY_CAST)."
                )


def _a_date_literal(con: Any, sql: str) -> bool:
    """Whether ``sql`` reads no column and is text that converts to a date."""
    import duckdb

    try:
        con.execute(f"SELECT CAST(({sql}) AS DATE)").fetchall()
    except duckdb.Error:  # a column it reads, or text that is not a date
        return False
    return True


@cache
def _binder() -> Any:
    """An empty in-memory database to bind snippets in (connecting costs 20 ms; a cursor of
    it, for each check, far less)."""
    import duckdb

    return duckdb.connect()


_WANTED = {_BOOLEAN: "a true/false condition", _DATE: "a date", _AMOUNT: "a number (of pence, for an amount)",
           _WHOLE: "a whole number (of days)"}
