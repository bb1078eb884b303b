"""A portable upsert: update the row matching ``where``, insert it when there is none.

It runs inside a write transaction (the write lock is held), so no other writer can slip a row in
between the two statements; this works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.engine import Connection


def upsert(
    conn: Connection,
    table: Table,
    *,
    where: ColumnElement[bool],
    keys: Mapping[str, Any],
    values: Mapping[str, Any],
) -> None:
    done = conn.execute(table.update().where(where).values(**values))
    if done.rowcount == 0:
        conn.execute(table.insert().values(**keys, **values))
