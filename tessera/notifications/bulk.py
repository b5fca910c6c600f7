"""Set-based reads and writes for batches of thousands of rows.

On PostgreSQL, rows are written with COPY and lists are sent as one bound array
(`= ANY(%s)`): measured on a million-row fan-out, Django's `bulk_create` spent three
quarters of its time preparing each value in Python and quoting the arrays of its UNNEST
insert into the statement's text, which held the fan-out to a sixth of the rate of a bare
`INSERT … SELECT` (docs/decisions/0022). Elsewhere (SQLite, the embedded default) the same
rows go through `bulk_create` and the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import JSONField, Model

# Rows per INSERT where `bulk_create` is used.
INSERT_BATCH = 2000


def columns_of(model: type[Model], names: Sequence[str]) -> tuple[str, ...]:
    """`names` (attribute names) checked against the model: every concrete column, once.

    A column added to the model later fails here, at import, instead of being left out of
    the COPY."""
    expected = {field.attname for field in model._meta.concrete_fields}
    if set(names) != expected or len(names) != len(expected):
        raise LookupError(
            f"{model.__name__} rows must name every column once: missing "
            f"{sorted(expected - set(names))}, unknown {sorted(set(names) - expected)}"
        )
    return tuple(names)


def _fields(model: type[Model], columns: Sequence[str]) -> list[Any]:
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    return [by_attname[name] for name in columns]


def _encoders(model: type[Model], columns: Sequence[str]) -> list[Any]:
    encoders: list[Any] = []
    for field in _fields(model, columns):
        if isinstance(field, JSONField):
            encoder = field.encoder or DjangoJSONEncoder
            encoders.append(lambda value, cls=encoder: json.dumps(value, cls=cls))
        else:
            encoders.append(None)
    return encoders


def rows_write(model: type[Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert `rows` (tuples in the order of `columns`, every concrete column of `model`,
    values as the model's attributes hold them) in the current transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects, batch_size=INSERT_BATCH)
        return
    encoders = _encoders(model, columns)
    json_at = [(index, encode) for index, encode in enumerate(encoders) if encode is not None]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in _fields(model, columns))
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            if json_at:
                values = list(row)
                for index, encode in json_at:
                    values[index] = encode(values[index])
                copy.write_row(values)
            else:
                copy.write_row(row)


def _server_bound(sql: str, params: Sequence[Any], *, fetch: bool) -> list[tuple[Any, ...]]:
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    cursor: Any = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
    with connection.wrap_database_errors, cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if fetch else []


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql` run with server-side binding on PostgreSQL (a list parameter travels
    as one binary array, not as text quoted into the statement). PostgreSQL only."""
    return _server_bound(sql, params, fetch=True)


def execute(sql: str, params: Sequence[Any]) -> None:
    """`sql` (a write) run with server-side binding on PostgreSQL. PostgreSQL only."""
    _server_bound(sql, params, fetch=False)
