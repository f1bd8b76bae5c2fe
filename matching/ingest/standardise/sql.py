"""Writing SQL text: quoting, literals and applying a list of named steps to an expression.

Every standardiser is a function from a SQL expression (the raw column) to SQL expressions,
so the helpers here are the only string-building they share.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence

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


_let_names = itertools.count(1)


def let(expr: str, body: Callable[[str], str]) -> str:
    """Evaluate ``expr`` once and use it several times in ``body`` (SQL has no LET).

    ``body`` gets the name bound to the value. The binding is a one-element list and a
    lambda, which costs little next to the regular expressions it saves repeating.
    """
    name = f"_v{next(_let_names)}"
    return f"list_transform([{expr}], lambda {name}: {body(name)})[1]"
