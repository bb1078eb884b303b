"""Cluster status: reachability, the last error, when we last reached it, and whether it is paused."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select

from reconciler.core.statuses import Reachability
from reconciler.errors import StoreError
from reconciler.store import rows, tables, upserts
from reconciler.store.contexts import Context
from reconciler.store.records import ClusterStatus

T = tables.clusters
RETIRED = (tables.inventory_entries, tables.inventories, tables.drifts, tables.bundle_states, tables.applied_objects,
           tables.bundle_health)


class Clusters:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def set_status(self, name: str, status: Reachability, *, error: str = "") -> ClusterStatus:
        """Record what the last contact with ``name`` gave; ``last_seen`` moves only when it answered."""
        self.set_statuses([(name, status, error)])
        return self.get(name)

    def set_statuses(self, found: Iterable[tuple[str, Reachability, str]]) -> None:
        """``set_status`` for many clusters (``(name, status, error)``) in one transaction, with no read back."""
        now, redact = self._ctx.clock(), self._ctx.redactor
        with self._ctx.write() as conn:
            for name, status, error in found:
                values: dict[str, Any] = {"status": status.value, "last_error": redact.text(error), "updated_at": now}
                if status is Reachability.REACHABLE:
                    values["last_seen"] = now
                upserts.upsert(conn, T, where=T.c.name == name, keys={"name": name}, values=values)

    def set_paused(self, name: str, *, paused: bool) -> ClusterStatus:
        values = {"paused": paused, "updated_at": self._ctx.clock()}
        with self._ctx.write() as conn:
            upserts.upsert(
                conn,
                T,
                where=T.c.name == name,
                keys={"name": name, "status": Reachability.UNKNOWN.value},
                values=values,
            )
        return self.get(name)

    def retire(self, name: str) -> None:
        """Forget a cluster that left the fleet and was deleted: its status, and every inventory, drift,
        applied-object, bundle-state and health row of its bundles or inside it (events stay: they are history)."""
        with self._ctx.write() as conn:
            for table in RETIRED:
                conn.execute(table.delete().where(or_(table.c.cluster == name, table.c.bundle_cluster == name)))
            conn.execute(T.delete().where(T.c.name == name))

    def get(self, name: str) -> ClusterStatus:
        with self._ctx.read() as conn:
            row = conn.execute(select(T).where(T.c.name == name)).first()
        if row is None:
            raise StoreError("no status recorded for this cluster", cluster=name)
        return _record(row)

    def all(self) -> list[ClusterStatus]:
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(select(T).order_by(T.c.name))]


def _record(row: Any) -> ClusterStatus:
    return rows.record(ClusterStatus, row, status=Reachability(row.status), paused=bool(row.paused))
