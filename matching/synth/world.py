"""The simulated world of one chunk: its people, homes and every body's records of them.

Life tables are named by the dataset kind they become (``payroll``, ``housing_benefit``...).
Each row carries ``body`` (an index into ``BODIES``), ``person`` (an index into ``people``,
or -1), ``addr`` (an index into ``addresses``, or -1: the home or premises the record is
about) and ``row_id`` (unique within the table, so planted pairs can name their records).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matching.synth.addresses import BOROUGHS
from matching.synth.table import Table

BODIES = (*BOROUGHS, "dwp", "slc")
DWP, SLC = 3, 4


@dataclass
class HardNegative:
    job: str
    left_kind: str
    left_row: int
    right_kind: str
    right_row: int
    why: str


class Tables(dict):
    """Life tables by kind. Rows added one scenario at a time are kept aside and joined to
    their table when it is next read, so planting stays linear in the population."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[str, list[Table]] = {}

    def _flush(self, kind: str) -> None:
        rows = self.pending.pop(kind, None)
        if not rows:
            return
        base = dict.get(self, kind)
        parts = ([base] if base is not None and len(base) else []) + rows
        for part in parts[1:]:
            for name in set(part.names) - set(parts[0].names):  # a column only planted rows have
                parts[0][name] = _blank(part[name], len(parts[0]))
        parts = [parts[0]] + [_align(part, parts[0]) for part in parts[1:]]
        dict.__setitem__(self, kind, Table.concat(parts))

    def __getitem__(self, kind: str) -> Table:
        self._flush(kind)
        return dict.__getitem__(self, kind)

    def get(self, kind: str, default: Table | None = None) -> Table | None:  # type: ignore[override]
        self._flush(kind)
        return dict.get(self, kind, default)

    def __contains__(self, kind: object) -> bool:
        return dict.__contains__(self, kind) or kind in self.pending

    def items(self):  # noqa: ANN201 (a dict's own items view)
        for kind in list(self.pending):
            self._flush(kind)
        return dict.items(self)

    def pop(self, kind: str, default: Table | None = None) -> Table | None:  # type: ignore[override]
        self._flush(kind)
        return dict.pop(self, kind, default)

    def append(self, kind: str, rows: Table) -> None:
        self.pending.setdefault(kind, []).append(rows)


@dataclass
class World:
    ref: np.datetime64
    tax_year_start: np.datetime64
    rng: np.random.Generator
    people: Table
    households: Table
    addresses: Table  # homes first, then business premises
    n_homes: int
    tables: Tables = field(default_factory=Tables)
    hard_negatives: list[HardNegative] = field(default_factory=list)
    planted: dict[str, int] = field(default_factory=dict)
    planted_pairs: list[tuple[str, str, int, str, int]] = field(default_factory=list)
    # Rows planted for a job (kind -> row_ids) that must stay exactly as planted.
    protected: dict[str, set[int]] = field(default_factory=dict)
    _next_row: dict[str, int] = field(default_factory=dict)
    chunk_index: int = 0
    upn_by_person: dict[int, str] = field(default_factory=dict)
    ct_ref_by_addr: dict[int, str] = field(default_factory=dict)
    record_keys: dict[str, dict[int, str]] = field(default_factory=dict)  # kind -> row_id -> record key

    def row_ids(self, kind: str, n: int) -> np.ndarray:
        start = self._next_row.get(kind, 0)
        self._next_row[kind] = start + n
        return np.arange(start, start + n, dtype=np.int64)

    def add_rows(self, kind: str, rows: Table) -> np.ndarray:
        """Append rows (without row_id) to a life table; returns their row_ids."""
        ids = self.row_ids(kind, len(rows))
        rows["row_id"] = ids
        self.tables.append(kind, rows)
        return ids

    def row_index(self, kind: str, row_ids: np.ndarray) -> np.ndarray:
        """Positions of ``row_ids`` in the table (they must exist)."""
        ids = self.tables[kind]["row_id"]
        order = np.argsort(ids, kind="stable")
        pos = np.searchsorted(ids[order], row_ids)
        return order[pos]

    def protect(self, kind: str, row_ids: np.ndarray | list[int]) -> None:
        self.protected.setdefault(kind, set()).update(int(r) for r in row_ids)

    def hard_negative(self, job: str, left_kind: str, left_row: int, right_kind: str, right_row: int, why: str) -> None:
        self.hard_negatives.append(HardNegative(job, left_kind, int(left_row), right_kind, int(right_row), why))
        self.protect(left_kind, [left_row])
        self.protect(right_kind, [right_row])

    def plant(self, job: str, left_kind: str, left_row: int, right_kind: str, right_row: int) -> None:
        """A planted inconsistency: its two records are protected and it must appear in the truth."""
        self.planted[job] = self.planted.get(job, 0) + 1
        self.planted_pairs.append((job, left_kind, int(left_row), right_kind, int(right_row)))
        self.protect(left_kind, [left_row])
        self.protect(right_kind, [right_row])

    def alive_on(self, day: np.datetime64 | np.ndarray) -> np.ndarray:
        dod = self.people["dod"]
        return np.isnat(dod) | (dod > day)

    def age_years(self, on: np.datetime64 | np.ndarray | None = None) -> np.ndarray:
        from matching.synth.table import age_on

        return age_on(self.people["dob"], self.ref if on is None else on)


def _blank(like: np.ndarray, n: int) -> np.ndarray:
    if like.dtype == object:
        return np.full(n, "", dtype=object)
    if np.issubdtype(like.dtype, np.datetime64):
        return np.full(n, np.datetime64("NaT"), dtype=like.dtype)
    if like.dtype == bool:
        return np.zeros(n, dtype=bool)
    return np.full(n, -1, dtype=like.dtype)


def _align(rows: Table, like: Table) -> Table:
    """``rows`` with exactly the columns of ``like`` (missing ones filled with blanks)."""
    out = Table(n=len(rows))
    for name, col in like.items():
        if name in rows:
            out[name] = rows[name].astype(col.dtype) if col.dtype != object else rows[name]
        else:
            out[name] = _blank(col, len(rows))
    return out
