"""Rollout memory (ADR 0022): stage marks and approvals, the state of every unit, paused assignments,
retries of halted units.

``save`` replaces the unit states and the marks of one apply run in one transaction; ``approve`` and
``set_paused`` are what people do through the API and the dashboard.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select

from reconciler.core.stagegates import StageMark, UnitStatus
from reconciler.core.statuses import UnitState
from reconciler.store import tables, upserts
from reconciler.store.contexts import Context

STAGES = tables.rollout_stages
UNITS = tables.rollout_units
HOLDS = tables.assignment_holds
RETRIES = tables.unit_retries


class Rollouts:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def marks(self) -> dict[str, StageMark]:
        """Every stage's mark by ``assignment/stage``."""
        with self._ctx.read() as conn:
            return {row.stage: _mark(row) for row in conn.execute(select(STAGES))}

    def units(self, *, cluster: str | None = None, assignment: str | None = None) -> list[UnitStatus]:
        query = select(UNITS).order_by(UNITS.c.assignment, UNITS.c.stage, UNITS.c.cluster)
        if cluster is not None:
            query = query.where(UNITS.c.cluster == cluster)
        if assignment is not None:
            query = query.where(UNITS.c.assignment == assignment)
        with self._ctx.read() as conn:
            return [_unit(row) for row in conn.execute(query)]

    def save(self, marks: Mapping[str, StageMark], units: Iterable[UnitStatus], *,
             clusters: Collection[str] = ()) -> None:
        """What one apply run leaves: the marks it read and changed, and the states of the units it saw.
        Each unit replaces the one stored for it; ``clusters`` also drop their other units (a run over
        the whole fleet says every unit of the clusters it saw)."""
        given = list(units)
        now = self._ctx.clock()
        with self._ctx.write() as conn:
            for stage, mark in sorted(marks.items()):
                values = {"ready_since": mark.ready_since, "approved_by": mark.approved_by,
                          "approved_at": mark.approved_at, "updated_at": now}
                upserts.upsert(conn, STAGES, where=STAGES.c.stage == stage, keys={"stage": stage}, values=values)
            conn.execute(delete(UNITS).where(UNITS.c.cluster.in_(sorted(clusters))))
            for unit in given:
                one = (UNITS.c.cluster == unit.cluster) & (UNITS.c.assignment == unit.assignment)
                conn.execute(delete(UNITS).where(one))
                conn.execute(delete(RETRIES).where((RETRIES.c.cluster == unit.cluster)
                                                   & (RETRIES.c.assignment == unit.assignment)))
            rows = [_unit_values(u, now=now, reason=self._ctx.redactor.text(u.reason)) for u in given]
            if rows:
                conn.execute(UNITS.insert(), rows)

    def approve(self, stage: str, *, by: str) -> StageMark:
        """Approve ``stage`` (``assignment/stage``) for its next change; kept until that change is through."""
        now = self._ctx.clock()
        with self._ctx.write() as conn:
            upserts.upsert(conn, STAGES, where=STAGES.c.stage == stage, keys={"stage": stage},
                           values={"approved_by": by, "approved_at": now, "updated_at": now})
        return self.marks()[stage]

    def set_paused(self, assignment: str, *, paused: bool, by: str) -> None:
        with self._ctx.write() as conn:
            conn.execute(delete(HOLDS).where(HOLDS.c.assignment == assignment))
            if paused:
                conn.execute(HOLDS.insert().values(assignment=assignment, paused_by=by, paused_at=self._ctx.clock()))

    def retry(self, cluster: str, assignment: str, *, by: str) -> None:
        """Ask the next apply run to start this unit even if its assignment halted (once)."""
        where = (RETRIES.c.cluster == cluster) & (RETRIES.c.assignment == assignment)
        with self._ctx.write() as conn:
            upserts.upsert(conn, RETRIES, where=where, keys={"cluster": cluster, "assignment": assignment},
                           values={"asked_by": by, "asked_at": self._ctx.clock()})

    def retries(self) -> frozenset[tuple[str, str]]:
        """Units (cluster, assignment) asked to be retried; the next ``save`` of their cluster clears them."""
        with self._ctx.read() as conn:
            return frozenset((r.cluster, r.assignment) for r in conn.execute(select(RETRIES)))

    def paused(self) -> frozenset[str]:
        """The assignments paused by a person."""
        with self._ctx.read() as conn:
            return frozenset(row.assignment for row in conn.execute(select(HOLDS.c.assignment)))


def _mark(row: Any) -> StageMark:
    return StageMark(ready_since=row.ready_since, approved_by=row.approved_by, approved_at=row.approved_at)


def _unit(row: Any) -> UnitStatus:
    return UnitStatus(row.cluster, row.assignment, row.stage, UnitState(row.state), row.reason, row.until)


def _unit_values(unit: UnitStatus, *, now: Any, reason: str) -> dict[str, Any]:
    return {"cluster": unit.cluster, "assignment": unit.assignment, "stage": unit.stage, "state": unit.state.value,
            "reason": reason, "until": unit.until, "updated_at": now}
