"""Fast multi-row INSERT and UPDATE for publish, through Django's own connection.

``bulk_create`` costs about 0.4 ms a row in field preparation and, on SQLite, splits
inserts into batches of ~30 rows; publishing 100,000 inconsistencies took over a minute.
These prepare each column once with the backend's own adapters and hand the rows to the
driver's ``executemany``. Table and column names come from the model, values are always
parameters: no SQL is built from input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

BATCH = 5000


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda v: None if v is None else ops.adapt_json_value(v, encoder)
    if isinstance(field, models.DateTimeField):
        # A publish stamps every row with the same instant: adapt each distinct value once.
        cache: dict[Any, Any] = {}

        def adapt_datetime(v: Any) -> Any:
            if v not in cache:
                cache[v] = ops.adapt_datetimefield_value(v)
            return cache[v]

        return adapt_datetime
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    return lambda v: v


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[n] for n in names]


def _executemany(sql: str, params: Iterable[Sequence[Any]]) -> None:
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in params:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (attname → value); columns a row lacks take the field's default."""
    if not rows:
        return
    q = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    adapters = [(f.attname, _adapter(f)) for f in fields]
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    _executemany(sql, (
        [adapt(row[name] if name in row else defaults[name]) for name, adapt in adapters] for row in rows
    ))


def update_rows(model: type[models.Model], names: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """UPDATE the columns ``names`` of each row (attname → value, with ``id``) by primary key."""
    if not rows:
        return
    q = connection.ops.quote_name
    fields = _columns(model, names)
    adapters = [(f.attname, _adapter(f)) for f in fields]
    pk = model._meta.pk
    assert pk is not None
    sql = (
        f"UPDATE {q(model._meta.db_table)} SET {', '.join(f'{q(f.column)} = %s' for f in fields)} "
        f"WHERE {q(pk.column)} = %s"
    )
    _executemany(sql, ([*(adapt(row[name]) for name, adapt in adapters), row["id"]] for row in rows))
