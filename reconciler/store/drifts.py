"""Drift entries: one row per drifted object, kept across scans so it remembers when it began.

``report`` upserts: drift already open keeps its ``first_seen`` and gets a new ``last_seen``, patch,
diff and culprit; drift that had been resolved and comes back starts again. After scanning a bundle,
``resolve_others`` closes the open entries of that bundle the scan no longer found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, func, select

from reconciler.core.desired import BundleId
from reconciler.core.diff import ABSENT
from reconciler.core.drift import Kind, Who
from reconciler.core.objects import ObjectKey
from reconciler.store import rows, tables
from reconciler.store.contexts import Context
from reconciler.store.records import DriftRecord

T = tables.drifts
NOBODY = Who()


class Drifts:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def report(
        self,
        cluster: str,
        bundle: BundleId,
        key: ObjectKey | str,
        *,
        patch: Sequence[dict[str, Any]],
        diff: str,
        who: Who = NOBODY,
    ) -> DriftRecord:
        """Record that ``key`` drifted, as seen now (see the module docstring)."""
        now = self._ctx.clock()
        where = and_(rows.match_bundle(T, cluster, bundle), T.c.object_key == rows.key_text(key))
        values = self._values(patch=patch, diff=diff, who=who) | {"last_seen": now}
        with self._ctx.write() as conn:
            found = conn.execute(select(T.c.resolved_at).where(where)).first()
            if found is None:
                keys = rows.bundle_values(cluster, bundle) | {"object_key": rows.key_text(key)}
                conn.execute(T.insert().values(**keys, **values, first_seen=now))
            elif found.resolved_at is not None:
                conn.execute(T.update().where(where).values(**values, first_seen=now, resolved_at=None))
            else:
                conn.execute(T.update().where(where).values(**values))
            row = conn.execute(select(T).where(where)).one()
        return _record(row)

    def resolve_others(self, cluster: str, bundle: BundleId, *, still: Iterable[ObjectKey | str]) -> int:
        """Close the open drift of a bundle except for ``still``; returns how many were closed."""
        keep = [rows.key_text(k) for k in still]
        where = and_(
            rows.match_bundle(T, cluster, bundle), T.c.resolved_at.is_(None), T.c.object_key.not_in(keep)
        )
        with self._ctx.write() as conn:
            return int(conn.execute(T.update().where(where).values(resolved_at=self._ctx.clock())).rowcount)

    def open(self, *, cluster: str | None = None) -> list[DriftRecord]:
        query = select(T).where(T.c.resolved_at.is_(None)).order_by(T.c.cluster, T.c.first_seen)
        if cluster is not None:
            query = query.where(T.c.cluster == cluster)
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def count_open(self) -> int:
        with self._ctx.read() as conn:
            return int(conn.execute(select(func.count()).where(T.c.resolved_at.is_(None))).scalar_one())

    def _values(self, *, patch: Sequence[dict[str, Any]], diff: str, who: Who) -> dict[str, Any]:
        redact = self._ctx.redactor
        return {
            "patch": rows.dumps(redact.data(list(patch))),
            "diff": redact.text(diff),
            "manager": who.manager,
            "operation": who.operation,
            "changed_at": who.time,
        }


def _record(row: Any) -> DriftRecord:
    return DriftRecord(
        cluster=row.cluster,
        bundle=rows.bundle_of(row),
        object_key=row.object_key,
        patch=tuple(json.loads(row.patch)),
        diff=row.diff,
        kind=Kind.MISSING if row.diff.startswith(f"--- {ABSENT}") else Kind.MODIFIED,
        who=Who(manager=row.manager, operation=row.operation, time=row.changed_at),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        resolved_at=row.resolved_at,
    )
