"""A read's statement compiled from the ORM once per shape
(docs/decisions/0040-discovery-page-statement.md).

A hot page's filters are written once, as ORM querysets. Building and compiling those
querysets cost milliseconds of CPU on every request, for SQL that differs between requests
only in its values. So the page's statement is compiled once per *shape* (which filters are
present, the page's size) with stand-in values, each stand-in becomes a named parameter, and
the request binds its own values. Events' discovery (`events.selectors._page_statement`) and
the capsule inbox (`capsules.selectors._page_statement`) compile their pages this way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import connections
from django.db.models import QuerySet

_SQL_WORD = re.compile(r"[a-z_]{1,40}")


def _same(stand_in: Any, value: Any) -> bool:
    if isinstance(stand_in, int) and not isinstance(stand_in, bool):
        return isinstance(value, int) and not isinstance(value, bool) and value == stand_in
    return type(stand_in) is type(value) and stand_in == value


def named_sql(queryset: QuerySet[Any], stand_ins: Mapping[str, Any]) -> str:
    """The SQL of `queryset` with `%(<name>)s` wherever a stand-in of `stand_ins` was
    compiled, and the other values written in: lower-case words (state names, the text
    search configuration) and integers (`price_minor = 0`). Written in, not bound: the
    planner proves a partial index's predicate (`status = 'published'`) only from a
    literal. Any other value is an error: every value a request varies must be a stand-in."""
    sql, params = queryset.query.sql_with_params()
    names = []
    for value in params:
        name = next((k for k, v in stand_ins.items() if _same(v, value)), None)
        if name is not None:
            names.append(f"%({name})s")
        elif isinstance(value, str) and _SQL_WORD.fullmatch(value):
            names.append(f"'{value}'")
        elif isinstance(value, int) and not isinstance(value, bool):
            names.append(str(int(value)))  # Django may wrap it (psycopg's Int8)
        else:
            raise TypeError(f"no stand-in or literal for {value!r}")
    pieces = sql.split("%%")
    taken = 0
    for number, piece in enumerate(pieces):
        parts = piece.split("%s")
        for i in range(len(parts) - 1):
            parts[i] += names[taken]
            taken += 1
        pieces[number] = "".join(parts)
    return "%%".join(pieces)


def fetch_all(alias: str, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every row of `sql` (named parameters) on the connection `alias`.

    Not prepared: a prepared statement's generic plan (PostgreSQL's choice after five runs)
    knows neither the box nor the dates, and was measured up to 100 times slower than the
    plan made for the request's values (docs/decisions/0040)."""
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
