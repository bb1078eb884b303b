"""Plans: the JSON artifact of ``core.plans``, its status, and the pull request it belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from reconciler.core import plans as core_plans
from reconciler.core.statuses import PlanStatus
from reconciler.errors import StoreError
from reconciler.store import rows, tables
from reconciler.store.contexts import Context
from reconciler.store.records import PlanRecord

T = tables.plans


class Plans:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def save(
        self,
        plan_id: str,
        plan: core_plans.Plan,
        *,
        pr_number: int | None = None,
        pr_branch: str | None = None,
    ) -> PlanRecord:
        """Store ``plan`` (redacted) as ``planned``; ``plan_id`` must be new."""
        body = rows.dumps(self._ctx.redactor.data(plan.to_dict()))
        now = self._ctx.clock()
        with self._ctx.write() as conn:
            conn.execute(
                T.insert().values(
                    id=plan_id,
                    revision=plan.revision,
                    created_at=now,
                    updated_at=now,
                    status=PlanStatus.PLANNED.value,
                    body=body,
                    pr_number=pr_number,
                    pr_branch=pr_branch,
                )
            )
        return self.get(plan_id)

    def set_status(self, plan_id: str, status: PlanStatus) -> PlanRecord:
        with self._ctx.write() as conn:
            done = conn.execute(
                T.update().where(T.c.id == plan_id).values(status=status.value, updated_at=self._ctx.clock())
            )
            if done.rowcount != 1:
                raise StoreError("no such plan", plan=plan_id)
        return self.get(plan_id)

    def supersede(self, *, by: str) -> int:
        """Mark every plan still ``planned`` that is not a pull request's (the daemon's own) superseded
        by plan ``by``; how many were."""
        pending = (T.c.status == PlanStatus.PLANNED.value) & T.c.pr_number.is_(None) & (T.c.id != by)
        with self._ctx.write() as conn:
            done = conn.execute(T.update().where(pending).values(status=PlanStatus.SUPERSEDED.value,
                                                                   updated_at=self._ctx.clock()))
        return int(done.rowcount)

    def get(self, plan_id: str) -> PlanRecord:
        with self._ctx.read() as conn:
            row = conn.execute(select(T).where(T.c.id == plan_id)).first()
        if row is None:
            raise StoreError("no such plan", plan=plan_id)
        return _record(row)

    def load(self, plan_id: str) -> core_plans.Plan:
        """The stored plan as a ``core.plans.Plan`` again."""
        return core_plans.from_json(self.get(plan_id).body)

    def for_pull_request(self, pr_number: int) -> list[PlanRecord]:
        query = select(T).where(T.c.pr_number == pr_number).order_by(T.c.created_at.desc())
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def approved(self, revision: str) -> bool:
        """Whether a person approved the held change set of ``revision`` (a plan of it is ``approved``)."""
        with self._ctx.read() as conn:
            found = conn.execute(select(T.c.id).where((T.c.revision == revision)
                                                      & (T.c.status == PlanStatus.APPROVED.value)).limit(1))
            return found.first() is not None

    def recent(self, *, status: PlanStatus | None = None, limit: int = 20) -> list[PlanRecord]:
        query = select(T).order_by(T.c.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(T.c.status == status.value)
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]


def _record(row: Any) -> PlanRecord:
    return rows.record(PlanRecord, row, status=PlanStatus(row.status))
