"""Pull-request plans: one row per source, PR number and head commit, with its state and posting record.

A new head of a PR supersedes the open plans of its earlier heads (``save``). ``posted`` and
``post_failed`` record what the forge said; ``set_state`` moves a plan on at the merge.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from reconciler.core import prplans as core_prplans
from reconciler.core.statuses import PrPlanState
from reconciler.errors import StoreError
from reconciler.store import rows, tables
from reconciler.store.contexts import Context
from reconciler.store.records import OPEN_PR_STATES, PrPlanRecord

T = tables.pr_plans


class PrPlans:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def save(self, record_id: str, plan: core_prplans.PullRequestPlan, *, source: str, head_sha: str,
             plan_id: str) -> PrPlanRecord:
        """Store ``plan`` (redacted) as ``planned``; earlier open plans of the same PR become ``superseded``."""
        if plan.number is None:
            raise StoreError("a pull-request plan needs its number", plan=record_id)
        body = rows.dumps(self._ctx.redactor.data(plan.to_dict()))
        now = self._ctx.clock()
        with self._ctx.write() as conn:
            conn.execute(T.update().where(T.c.source == source, T.c.number == plan.number,
                                          T.c.state.in_([s.value for s in OPEN_PR_STATES]))
                         .values(state=PrPlanState.SUPERSEDED.value, note=f"a newer head was planned ({head_sha[:12]})",
                                 updated_at=now))
            conn.execute(T.insert().values(
                id=record_id, source=source, number=plan.number, head_sha=head_sha, head=plan.head, base=plan.base,
                state=PrPlanState.PLANNED.value, content_hash=plan.content_hash, plan_id=plan_id,
                has_changes=plan.has_changes, body=body, note="", post_attempts=0, post_error="", posted_at=None,
                created_at=now, updated_at=now))
        return self.get(record_id)

    def get(self, record_id: str) -> PrPlanRecord:
        with self._ctx.read() as conn:
            row = conn.execute(select(T).where(T.c.id == record_id)).first()
        if row is None:
            raise StoreError("no such pull-request plan", plan=record_id)
        return _record(row)

    def load(self, record_id: str) -> core_prplans.PullRequestPlan:
        return core_prplans.PullRequestPlan.from_dict(json.loads(self.get(record_id).body))

    def find(self, source: str, number: int, head_sha: str) -> PrPlanRecord | None:
        query = select(T).where(T.c.source == source, T.c.number == number, T.c.head_sha == head_sha)
        with self._ctx.read() as conn:
            row = conn.execute(query).first()
        return _record(row) if row is not None else None

    def open(self, source: str) -> list[PrPlanRecord]:
        """The plans of ``source`` still waiting for their merge (planned or posted), oldest first."""
        query = (select(T).where(T.c.source == source, T.c.state.in_([s.value for s in OPEN_PR_STATES]))
                 .order_by(T.c.created_at))
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def recent(self, *, limit: int = 50) -> list[PrPlanRecord]:
        with self._ctx.read() as conn:
            return [_record(row) for row in conn.execute(select(T).order_by(T.c.created_at.desc()).limit(limit))]

    def posted(self, record_id: str) -> PrPlanRecord:
        now = self._ctx.clock()
        return self._update(record_id, state=PrPlanState.POSTED.value, post_error="", posted_at=now,
                            post_attempts=T.c.post_attempts + 1, updated_at=now)

    def post_failed(self, record_id: str, error: str) -> PrPlanRecord:
        return self._update(record_id, post_error=self._ctx.redactor.text(error)[:2000],
                            post_attempts=T.c.post_attempts + 1, updated_at=self._ctx.clock())

    def set_state(self, record_id: str, state: PrPlanState, *, note: str = "") -> PrPlanRecord:
        return self._update(record_id, state=state.value, note=note, updated_at=self._ctx.clock())

    def _update(self, record_id: str, **values: Any) -> PrPlanRecord:
        with self._ctx.write() as conn:
            if conn.execute(T.update().where(T.c.id == record_id).values(**values)).rowcount != 1:
                raise StoreError("no such pull-request plan", plan=record_id)
        return self.get(record_id)


def _record(row: Any) -> PrPlanRecord:
    return rows.record(PrPlanRecord, row, state=PrPlanState(row.state))
