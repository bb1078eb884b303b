"""Revisions seen and applied, per source."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from reconciler.core.statuses import RevisionStatus
from reconciler.store import rows, tables
from reconciler.store.contexts import Context
from reconciler.store.records import RevisionRecord

T = tables.revisions


class Revisions:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def record_seen(self, source: str, revision: str, *, forced: bool = False, subject: str = "",
                    author: str = "") -> RevisionRecord:
        """Note that ``source`` points at ``revision`` (its commit's subject and author, redacted); seeing
        it again keeps the first record."""
        with self._ctx.write() as conn:
            found = conn.execute(select(T).where(T.c.source == source, T.c.revision == revision)).first()
            if found is None:
                conn.execute(
                    T.insert().values(
                        source=source,
                        revision=revision,
                        seen_at=self._ctx.clock(),
                        status=RevisionStatus.SEEN.value,
                        error="",
                        forced=forced,
                        subject=self._ctx.redactor.text(subject),
                        author=self._ctx.redactor.text(author),
                    )
                )
        return self._one(source, revision)

    def mark(self, source: str, revision: str, status: RevisionStatus, *, error: str = "") -> RevisionRecord:
        """Record how ``revision`` ended (applied, failed, invalid); it must have been seen."""
        values: dict[str, Any] = {"status": status.value, "error": self._ctx.redactor.text(error)}
        if status is RevisionStatus.APPLIED:
            values["applied_at"] = self._ctx.clock()
        with self._ctx.write() as conn:
            conn.execute(T.update().where(T.c.source == source, T.c.revision == revision).values(**values))
        return self._one(source, revision)

    def latest(self, source: str, *, status: RevisionStatus | None = None) -> RevisionRecord | None:
        """The newest revision of ``source`` (with ``status``, if given)."""
        query = select(T).where(T.c.source == source).order_by(T.c.id.desc()).limit(1)
        if status is not None:
            query = query.where(T.c.status == status.value)
        with self._ctx.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _record(row)

    def history(self, source: str, *, limit: int = 50) -> list[RevisionRecord]:
        query = select(T).where(T.c.source == source).order_by(T.c.id.desc()).limit(limit)
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def _one(self, source: str, revision: str) -> RevisionRecord:
        with self._ctx.read() as conn:
            row = conn.execute(select(T).where(T.c.source == source, T.c.revision == revision)).one()
        return _record(row)


def _record(row: Any) -> RevisionRecord:
    return rows.record(RevisionRecord, row, status=RevisionStatus(row.status), forced=bool(row.forced))
