"""A capped log of events for the dashboard: the newest ``cap`` are kept, older ones dropped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from reconciler.store import rows, tables
from reconciler.store.contexts import Context
from reconciler.store.records import EventRecord

T = tables.events
DEFAULT_CAP = 10_000


class Events:
    def __init__(self, context: Context, *, cap: int = DEFAULT_CAP) -> None:
        self._ctx = context
        self._cap = cap

    def add(
        self, reason: str, message: str, *, level: str = "info", cluster: str = "", bundle: str = ""
    ) -> int:
        """Append an event (message redacted) and drop what falls past the cap; returns its id."""
        values = {"reason": reason, "level": level, "cluster": cluster, "bundle": bundle}
        with self._ctx.write() as conn:
            done = conn.execute(
                T.insert().values(**values, at=self._ctx.clock(), message=self._ctx.redactor.text(message))
            )
            new_id = rows.new_id(done)
            conn.execute(T.delete().where(T.c.id <= new_id - self._cap))
        return new_id

    def recent(self, *, limit: int = 100, cluster: str | None = None) -> list[EventRecord]:
        query = select(T).order_by(T.c.id.desc()).limit(limit)
        if cluster is not None:
            query = query.where(T.c.cluster == cluster)
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def count(self) -> int:
        with self._ctx.read() as conn:
            return int(conn.execute(select(func.count()).select_from(T)).scalar_one())


def _record(row: Any) -> EventRecord:
    return rows.record(EventRecord, row)
