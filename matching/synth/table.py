"""A column table: named numpy arrays of equal length, and the few operations the generator needs.

Dates are ``datetime64[D]`` with ``NaT`` for "none" (an open claim, a current tenancy).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

NAT = np.datetime64("NaT", "D")


class Table:
    """Columns of equal length, in insertion order."""

    def __init__(self, columns: Mapping[str, Any] | None = None, n: int | None = None) -> None:
        self._cols: dict[str, np.ndarray] = {}
        self._n = n
        for name, values in (columns or {}).items():
            self[name] = values

    def __len__(self) -> int:
        if self._n is not None:
            return self._n
        return 0

    @property
    def n(self) -> int:
        return len(self)

    @property
    def names(self) -> list[str]:
        return list(self._cols)

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    def __setitem__(self, name: str, values: Any) -> None:
        arr = values if isinstance(values, np.ndarray) else np.asarray(values)
        if arr.ndim == 0:
            if self._n is None:
                raise ValueError(f"cannot broadcast scalar column {name!r} into an empty table")
            arr = np.full(self._n, arr.item() if arr.dtype != object else values, dtype=arr.dtype)
        if self._n is None:
            self._n = len(arr)
        elif len(arr) != self._n:
            raise ValueError(f"column {name!r} has {len(arr)} values, the table has {self._n}")
        self._cols[name] = arr

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        return iter(self._cols.items())

    def take(self, index: np.ndarray) -> Table:
        """Rows at ``index`` (integer positions or a boolean mask)."""
        index = np.asarray(index)
        n = int(index.sum()) if index.dtype == bool else len(index)
        return Table({k: v[index] for k, v in self._cols.items()}, n=n)

    def copy(self) -> Table:
        return Table({k: v.copy() for k, v in self._cols.items()}, n=len(self))

    def with_columns(self, **columns: Any) -> Table:
        out = self.copy()
        for k, v in columns.items():
            out[k] = v
        return out

    @staticmethod
    def concat(tables: Iterable[Table]) -> Table:
        """Stack tables with the same columns (missing columns are an error)."""
        tables = [t for t in tables if t is not None]
        if not tables:
            return Table()
        names = tables[0].names
        for t in tables[1:]:
            if set(t.names) != set(names):
                raise ValueError(f"cannot concat tables with columns {names} and {t.names}")
        return Table({k: np.concatenate([t[k] for t in tables]) for k in names}, n=sum(len(t) for t in tables))


def empty_like(template: Table) -> Table:
    return template.take(np.zeros(0, dtype=np.int64))


def days(n: Any) -> np.ndarray:
    """An integer number of days as a timedelta64[D] array."""
    return np.asarray(n).astype("timedelta64[D]")


def date(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


def add_years(d: np.ndarray, years: Any) -> np.ndarray:
    """The same day and month ``years`` later (one number, or one per element; 29 February
    becomes 28 February in a year without it)."""
    d = np.asarray(d, dtype="datetime64[D]")
    years = np.broadcast_to(np.asarray(years, dtype=np.int64), d.shape)
    y = d.astype("datetime64[Y]")
    month_start = d.astype("datetime64[M]")
    day = (d - month_start).astype(np.int64)
    month = (month_start - y.astype("datetime64[M]")).astype(np.int64)
    target_year = y + years.astype("timedelta64[Y]")
    target_month = target_year.astype("datetime64[M]") + month.astype("timedelta64[M]")
    next_month = target_month + np.timedelta64(1, "M")
    month_len = (next_month.astype("datetime64[D]") - target_month.astype("datetime64[D]")).astype(np.int64)
    out = target_month.astype("datetime64[D]") + np.minimum(day, month_len - 1).astype("timedelta64[D]")
    return np.where(np.isnat(d), np.datetime64("NaT", "D"), out).astype("datetime64[D]")


def age_on(dob: np.ndarray, on: Any) -> np.ndarray:
    """Whole years of age on the date(s) ``on``."""
    dob = np.asarray(dob, dtype="datetime64[D]")
    on = np.broadcast_to(np.asarray(on, dtype="datetime64[D]"), dob.shape)
    years = on.astype("datetime64[Y]").astype(np.int64) - dob.astype("datetime64[Y]").astype(np.int64)
    return np.where(add_years(dob, years) <= on, years, years - 1)


def clip_dates(d: np.ndarray, low: Any = None, high: Any = None) -> np.ndarray:
    out = np.asarray(d, dtype="datetime64[D]").copy()
    if low is not None:
        out = np.where(out < low, low, out)
    if high is not None:
        out = np.where(out > high, high, out)
    return out.astype("datetime64[D]")


def uniform_dates(rng: np.random.Generator, low: Any, high: Any, n: int | None = None) -> np.ndarray:
    """Dates drawn uniformly from [low, high] (inclusive; arrays or scalars)."""
    low = np.asarray(low, dtype="datetime64[D]")
    high = np.asarray(high, dtype="datetime64[D]")
    span = np.maximum((high - low).astype(np.int64), 0)
    size = n if n is not None else np.broadcast(low, high).shape
    offset = np.floor(rng.random(size) * (span + 1)).astype(np.int64)
    return (low + offset.astype("timedelta64[D]")).astype("datetime64[D]")


def year_of(d: np.ndarray) -> np.ndarray:
    return np.asarray(d, dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
