"""The desired objects as stackfleet last applied them, per destination cluster and bundle.

The drift scan compares live objects with these, so it needs no re-render. Bodies arrive sealed
(``core.drift.seal``: Secret values and sensitive annotations replaced by hash markers) and pass the
store's redactor as well. ``record`` replaces one bundle's set in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from reconciler.core.desired import BundleId
from reconciler.core.objects import Obj, ObjectKey
from reconciler.store import rows, tables
from reconciler.store.contexts import Context

T = tables.applied_objects


@dataclass(frozen=True)
class AppliedRecord:
    cluster: str
    bundle: BundleId
    object_key: str
    revision: str
    body: Obj
    updated_at: datetime


class AppliedObjects:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def record(self, cluster: str, bundle: BundleId, objects: Iterable[Obj], *, revision: str) -> None:
        """Make ``objects`` (sealed) the applied set of ``bundle`` in ``cluster``."""
        now, redact = self._ctx.clock(), self._ctx.redactor
        values = [
            rows.bundle_values(cluster, bundle)
            | {"object_key": str(ObjectKey.of(obj)), "revision": revision, "updated_at": now}
            | {"body": rows.dumps(redact.data(obj))}
            for obj in objects
        ]
        with self._ctx.write() as conn:
            conn.execute(delete(T).where(rows.match_bundle(T, cluster, bundle)))
            if values:
                conn.execute(T.insert(), values)

    def all(self, *, clusters: Iterable[str] | None = None) -> list[AppliedRecord]:
        """Every applied object (of ``clusters`` when given), in one query."""
        query = select(T).order_by(*(T.c[name] for name in tables.BUNDLE_KEY), T.c.object_key)
        if clusters is not None:
            query = query.where(T.c.cluster.in_(list(clusters)))
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]


def _record(row: Any) -> AppliedRecord:
    return AppliedRecord(
        cluster=row.cluster, bundle=rows.bundle_of(row), object_key=row.object_key, revision=row.revision,
        body=json.loads(row.body), updated_at=row.updated_at,
    )
