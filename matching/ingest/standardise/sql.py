"""Writing SQL text: quoting, literals and applying a list of named steps to an expression.

Every standardiser is a function from a SQL expression (the raw column) to SQL expressions,
so the helpers here are the only string-building they share.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

Step = Callable[[str], str]


def ident(name: str) -> str:
    """A quoted identifier: ``forenames`` -> ``"forenames"``."""
    return '"' + name.replace('"', '""') + '"'


def table(name: str) -> str:
    """A table reference; a dotted name is quoted part by part, a quoted one is left alone."""
    if '"' in name:
        return name
    return ".".join(ident(part) for part in name.split("."))


def literal(text: str) -> str:
    """A string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + text.replace("'", "''") + "'"


def string_list(values: Iterable[str]) -> str:
    """A list literal of strings: ``['MR', 'MRS']``."""
    return "[" + ", ".join(literal(v) for v in values) + "]::VARCHAR[]"


def case_map(expr: str, mapping: Mapping[str, str], default: str) -> str:
    """``CASE expr WHEN 'RD' THEN 'ROAD' ... ELSE default END`` from a dict."""
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in mapping.items())
    return f"CASE {expr} {whens} ELSE {default} END"


def apply_steps(expr: str, steps: Sequence[Step]) -> str:
    """Compose the steps in order: each wraps the expression the previous one returned."""
    for step in steps:
        expr = step(expr)
    return expr


def first_defect(checks: Sequence[tuple[str, str]]) -> str:
    """``CASE WHEN cond THEN 'reason' ... END``: the first failed check's reason, else NULL."""
    whens = " ".join(f"WHEN {cond} THEN {literal(reason)}" for cond, reason in checks)
    return f"CASE {whens} END"


_bound_names = itertools.count(1)
_LAMBDA_VARIABLE = re.compile(r"\b_v\d+\b|\b_[a-z]\b")
_DECLARED = re.compile(r"lambda ((?:_\w+)(?:, _\w+)*):")
_BOUND = re.compile(r"\b_b\d+\b")
_SIMPLE = re.compile(r'"[^"]*"|[A-Za-z_][A-Za-z0-9_]*')


def let(expr: str, body: Callable[[str], str]) -> str:
    """Use ``expr`` several times in ``body`` without writing it out again, inline.

    ``body`` gets the name bound to the value. The binding is a one-element list and a
    lambda. A lambda is costly in DuckDB (per chunk, even when a CASE lets few rows reach
    it), so it is for the rare, slow paths only; a plain column needs none and gets none.
    """
    # The name depends only on the expression, so building the same SQL twice gives the
    # same text, and ``bind`` can tell the two are one value.
    if _SIMPLE.fullmatch(expr):  # a column or a bound value: nothing to compute twice
        return body(expr)
    name = f"_v{int(hashlib.sha1(expr.encode()).hexdigest()[:12], 16)}"
    return f"list_transform([{expr}], lambda {name}: {body(name)})[1]"


class Bindings:
    """Expressions computed once per row, as columns of projections stacked under a query.

    ``bind`` inside ``binding()`` hoists an expression into a column ``_bN`` of a lower
    projection (identical expressions share one column), so the hot path of every
    standardiser evaluates each intermediate value once, for every row. ``wrap`` writes
    the stacked projections over a source.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # expression -> column
        self.depth: dict[str, int] = {}  # column -> layer (1 = directly over the source)

    def add(self, expr: str) -> str:
        if expr not in self.names:
            name = f"_b{next(_bound_names)}"
            self.depth[name] = 1 + max((self.depth[b] for b in _BOUND.findall(expr) if b in self.depth), default=0)
            self.names[expr] = name
        return self.names[expr]

    def wrap(self, source: str) -> str:
        """``SELECT *, <layer 1> FROM (SELECT *, ... FROM source)``: every bound column."""
        query = f"SELECT * FROM {source}"
        layers: dict[int, list[str]] = {}
        for expr, name in self.names.items():
            layers.setdefault(self.depth[name], []).append(f"{expr} AS {name}")
        for depth in sorted(layers):
            query = f"SELECT *, {', '.join(layers[depth])} FROM ({query})"
        return query


_active: ContextVar[Bindings | None] = ContextVar("bindings", default=None)


@contextmanager
def binding() -> Iterator[Bindings]:
    """Within this block, ``bind`` hoists expressions into the returned ``Bindings``."""
    bindings = Bindings()
    token = _active.set(bindings)
    try:
        yield bindings
    finally:
        _active.reset(token)


def _has_free_lambda_variable(expr: str) -> bool:
    declared = {v.strip() for group in _DECLARED.findall(expr) for v in group.split(",")}
    return any(v not in declared for v in _LAMBDA_VARIABLE.findall(expr))


def bind(expr: str, body: Callable[[str], str] = lambda v: v) -> str:
    """Compute ``expr`` once per row and use it in ``body``: hoisted into a column inside
    ``binding()``, else (or when it uses an enclosing lambda's variable) an inline ``let``.
    Use it on the hot path; a bound expression is evaluated for every row."""
    bindings = _active.get()
    if bindings is None or _has_free_lambda_variable(expr):
        return let(expr, body) if body(expr) != expr else expr
    return body(bindings.add(expr))


def unless(ok: str, value: str, otherwise: str) -> str:
    """``value`` where the cheap test ``ok`` holds, else ``otherwise`` (the slow path).

    A NULL input makes ``ok`` NULL, which takes the fast branch: blank values, the
    commonest of all, never pay for the slow path."""
    return f"CASE WHEN NOT ({ok}) THEN {otherwise} ELSE {value} END"
