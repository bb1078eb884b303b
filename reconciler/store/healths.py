"""Bundle health: the worst health of a bundle's live objects, as the last drift scan saw them.

``record`` upserts many bundles in one transaction; ``of_cluster`` reads the bundles applied to, or
assigned to, one cluster (for its dashboard page).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from reconciler.core.conditions import Health
from reconciler.core.desired import BundleId
from reconciler.store import rows, tables, upserts
from reconciler.store.contexts import Context

T = tables.bundle_health


@dataclass(frozen=True)
class HealthRecord:
    cluster: str
    bundle: BundleId
    health: Health
    reason: str
    updated_at: datetime


class Healths:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def record(self, found: Iterable[tuple[str, BundleId, Health, str]]) -> None:
        """Upsert ``(cluster, bundle, health, reason)`` for every bundle given, in one transaction."""
        now, redact = self._ctx.clock(), self._ctx.redactor
        with self._ctx.write() as conn:
            for cluster, bundle, health, reason in found:
                values = {"health": health.label, "reason": redact.text(reason), "updated_at": now}
                upserts.upsert(conn, T, where=rows.match_bundle(T, cluster, bundle),
                               keys=rows.bundle_values(cluster, bundle), values=values)

    def of_cluster(self, name: str) -> list[HealthRecord]:
        query = select(T).where(or_(T.c.cluster == name, T.c.bundle_cluster == name))
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]


def _record(row: Any) -> HealthRecord:
    return HealthRecord(cluster=row.cluster, bundle=rows.bundle_of(row), health=Health.of_label(row.health), reason=row.reason,
                        updated_at=row.updated_at)
