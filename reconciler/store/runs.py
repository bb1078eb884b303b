"""Apply runs and their steps, written one by one so a crash leaves exactly what was done.

The engine writes a step as ``started`` before it sends a request and finishes it after (or writes a
finished step in one go with ``record_step``, or a wave's finished steps with ``record_steps``). Each
call is its own committed transaction, and finishing a step also updates the bundle's row in
``bundle_states`` (the dashboard's latest state).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Outcome, RunStatus
from reconciler.core.steps import StepWrite
from reconciler.errors import StoreError
from reconciler.store import rows, tables, upserts
from reconciler.store.contexts import Context
from reconciler.store.records import RunRecord, StepRecord

R = tables.runs
S = tables.steps


class Runs:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def start(self, run_id: str, *, revision: str, plan_id: str | None = None) -> RunRecord:
        values = {"id": run_id, "revision": revision, "plan_id": plan_id}
        with self._ctx.write() as conn:
            conn.execute(
                R.insert().values(**values, started_at=self._ctx.clock(), status=RunStatus.RUNNING.value)
            )
        return self.get(run_id)

    def finish(self, run_id: str, status: RunStatus) -> RunRecord:
        with self._ctx.write() as conn:
            conn.execute(
                R.update().where(R.c.id == run_id).values(status=status.value, finished_at=self._ctx.clock())
            )
        return self.get(run_id)

    def begin_step(
        self, run_id: str, *, cluster: str, bundle: BundleId, key: ObjectKey | str, action: str
    ) -> int:
        """Write a step as ``started`` before its request goes out; returns its id."""
        values = self._step_values(run_id, cluster=cluster, bundle=bundle, key=key, action=action)
        with self._ctx.write() as conn:
            done = conn.execute(S.insert().values(**values, outcome=Outcome.STARTED.value))
            self._update_bundle_state(conn, conn.execute(select(S).where(S.c.id == rows.new_id(done))).one())
            return rows.new_id(done)

    def finish_step(self, step_id: int, outcome: Outcome, *, error: str = "") -> StepRecord:
        """Record how a started step ended."""
        text = self._ctx.redactor.text(error)
        with self._ctx.write() as conn:
            conn.execute(
                S.update()
                .where(S.c.id == step_id)
                .values(outcome=outcome.value, error=text, finished_at=self._ctx.clock())
            )
            row = conn.execute(select(S).where(S.c.id == step_id)).one()
            self._update_bundle_state(conn, row)
        return _step(row)

    def record_step(
        self,
        run_id: str,
        *,
        cluster: str,
        bundle: BundleId,
        key: ObjectKey | str,
        action: str,
        outcome: Outcome,
        error: str = "",
    ) -> StepRecord:
        """Write a finished step in one transaction."""
        values = self._step_values(run_id, cluster=cluster, bundle=bundle, key=key, action=action)
        extra = {"outcome": outcome.value, "error": self._ctx.redactor.text(error)}
        with self._ctx.write() as conn:
            done = conn.execute(S.insert().values(**values, **extra, finished_at=values["started_at"]))
            row = conn.execute(select(S).where(S.c.id == rows.new_id(done))).one()
            self._update_bundle_state(conn, row)
        return _step(row)

    def record_steps(self, run_id: str, steps: Sequence[StepWrite]) -> None:
        """Write a batch of finished steps (one wave's, say) in one transaction, with no read back;
        each bundle's state becomes its last step's."""
        if not steps:
            return
        now, redact = self._ctx.clock(), self._ctx.redactor
        values = [{**self._step_values(run_id, cluster=s.cluster, bundle=s.bundle, key=s.key, action=s.action),
                   "outcome": s.outcome.value, "error": redact.text(s.error), "finished_at": now} for s in steps]
        last = {(s.cluster, s.bundle): v for s, v in zip(steps, values, strict=True)}
        with self._ctx.write() as conn:
            conn.execute(S.insert(), values)
            for (cluster, bundle), value in last.items():
                self._set_bundle_state(conn, cluster, bundle, run_id=run_id, outcome=value["outcome"],
                                       error=value["error"], at=now)

    def get(self, run_id: str) -> RunRecord:
        with self._ctx.read() as conn:
            row = conn.execute(select(R).where(R.c.id == run_id)).first()
        if row is None:
            raise StoreError("no such apply run", run=run_id)
        return _run(row)

    def steps(self, run_id: str) -> list[StepRecord]:
        with self._ctx.read() as conn:
            return [
                _step(row) for row in conn.execute(select(S).where(S.c.run_id == run_id).order_by(S.c.id))
            ]

    def recent_steps(self, *, cluster: str, limit: int = 30) -> list[StepRecord]:
        """The latest steps applied to ``cluster`` or to its bundles elsewhere, newest first (dashboard)."""
        mine = (S.c.cluster == cluster) | (S.c.bundle_cluster == cluster)
        query = select(S).where(mine).order_by(S.c.id.desc()).limit(limit)
        with self._ctx.read() as conn:
            return [_step(row) for row in conn.execute(query)]

    def last_succeeded(self) -> RunRecord | None:
        """The newest run that succeeded everywhere (nothing failed or held): the fleet's last applied revision."""
        query = select(R).where(R.c.status == RunStatus.SUCCEEDED.value).order_by(R.c.started_at.desc()).limit(1)
        with self._ctx.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _run(row)

    def unfinished(self) -> list[RunRecord]:
        """Runs still marked running: after a crash, the ones to resume."""
        query = select(R).where(R.c.status == RunStatus.RUNNING.value).order_by(R.c.started_at)
        with self._ctx.read() as conn:
            return [_run(row) for row in conn.execute(query)]

    def _step_values(
        self, run_id: str, *, cluster: str, bundle: BundleId, key: ObjectKey | str, action: str
    ) -> dict[str, Any]:
        return {
            "run_id": run_id,
            **rows.bundle_values(cluster, bundle),
            "object_key": rows.key_text(key),
            "action": action,
            "started_at": self._ctx.clock(),
        }

    def _update_bundle_state(self, conn: Connection, step: Any) -> None:
        self._set_bundle_state(conn, step.cluster, rows.bundle_of(step), run_id=step.run_id, outcome=step.outcome,
                               error=step.error, at=step.finished_at or step.started_at)

    @staticmethod
    def _set_bundle_state(conn: Connection, cluster: str, bundle: BundleId, *, run_id: str, outcome: str,
                          error: str, at: Any) -> None:
        values = {"run_id": run_id, "outcome": outcome, "error": error, "updated_at": at}
        upserts.upsert(
            conn,
            tables.bundle_states,
            where=rows.match_bundle(tables.bundle_states, cluster, bundle),
            keys=rows.bundle_values(cluster, bundle),
            values=values,
        )


def _run(row: Any) -> RunRecord:
    return rows.record(RunRecord, row, status=RunStatus(row.status))


def _step(row: Any) -> StepRecord:
    return rows.record(StepRecord, row, bundle=rows.bundle_of(row), outcome=Outcome(row.outcome))
