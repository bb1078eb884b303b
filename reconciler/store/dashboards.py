"""The dashboard's read path: the latest state of every cluster x bundle in one query.

The rows are the bundles that have an inventory or a recorded step. Each row joins the inventory
header (revision, object count), the bundle's latest step outcome (``bundle_states``), its cluster's
status, and its count of open drift entries; every join is on an indexed key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, and_, func, literal, select, union

from reconciler.core.statuses import Outcome, Reachability
from reconciler.store import rows, tables
from reconciler.store.contexts import Context
from reconciler.store.records import BundleRow

INV = tables.inventories
STATES = tables.bundle_states
CLUSTERS = tables.clusters
DRIFTS = tables.drifts


class Dashboards:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def bundles(self, *, cluster: str | None = None) -> list[BundleRow]:
        """Every cluster x bundle (of one destination ``cluster``, if given) with its latest state."""
        with self._ctx.read() as conn:
            return [_row(row) for row in conn.execute(latest_query(cluster=cluster))]


def _of_cluster(query: Select[Any], table: Table, cluster: str | None) -> Select[Any]:
    return query if cluster is None else query.where(table.c.cluster == cluster)


def _keys(cluster: str | None) -> Any:
    inventories, states = (
        _of_cluster(select(*(t.c[name] for name in tables.BUNDLE_KEY)), t, cluster) for t in (INV, STATES)
    )
    return union(inventories, states).subquery("k")


def _open_drift(cluster: str | None) -> Any:
    cols = [DRIFTS.c[name] for name in tables.BUNDLE_KEY]
    counted = select(*cols, func.count().label("n")).where(DRIFTS.c.resolved_at.is_(None))
    return _of_cluster(counted, DRIFTS, cluster).group_by(*cols).subquery("d")


def _on(left: Any, right: Any) -> Any:
    return and_(*(left.c[name] == right.c[name] for name in tables.BUNDLE_KEY))


def latest_query(*, cluster: str | None = None) -> Select[Any]:
    """The dashboard query; with ``cluster``, every part is narrowed to it before joining."""
    keys, drift = _keys(cluster), _open_drift(cluster)
    joined = (
        keys.outerjoin(INV, _on(keys, INV))
        .outerjoin(STATES, _on(keys, STATES))
        .outerjoin(drift, _on(keys, drift))
        .outerjoin(CLUSTERS, CLUSTERS.c.name == keys.c.cluster)
    )
    return (
        select(
            *(keys.c[name] for name in tables.BUNDLE_KEY),
            func.coalesce(CLUSTERS.c.status, literal(Reachability.UNKNOWN.value)).label("reachability"),
            func.coalesce(CLUSTERS.c.paused, literal(False)).label("paused"),
            func.coalesce(INV.c.revision, literal("")).label("revision"),
            func.coalesce(INV.c.objects, literal(0)).label("objects"),
            func.coalesce(INV.c.stack_version, literal("")).label("version"),
            func.coalesce(drift.c.n, literal(0)).label("open_drift"),
            func.coalesce(STATES.c.outcome, literal("")).label("outcome"),
            func.coalesce(STATES.c.error, literal("")).label("error"),
            func.coalesce(STATES.c.updated_at, INV.c.updated_at, type_=tables.UtcDateTime()).label(
                "updated_at"
            ),
        )
        .select_from(joined)
        .order_by(*(keys.c[name] for name in tables.BUNDLE_KEY))
    )


def _row(row: Any) -> BundleRow:
    return rows.record(
        BundleRow,
        row,
        bundle=rows.bundle_of(row),
        reachability=Reachability(row.reachability),
        paused=bool(row.paused),
        outcome=Outcome(row.outcome) if row.outcome else None,
    )
