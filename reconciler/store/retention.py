"""Retention: finished apply runs (with their steps) and events older than a cut-off are deleted.

What is always kept, whatever its age: runs still running (a crash resumes them), the newest
``keep_runs`` finished runs, and the newest succeeded run (the fleet's last applied revision, which
force-push detection measures against). Plans, revisions, inventories and drift are current state,
not history, and are never pruned here. One transaction: a reader sees the history before or after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from reconciler.core.statuses import RunStatus
from reconciler.store import tables
from reconciler.store.contexts import Context

R = tables.runs
S = tables.steps
E = tables.events


@dataclass(frozen=True)
class Policy:
    max_age: timedelta = timedelta(days=30)
    keep_runs: int = 100


@dataclass(frozen=True)
class Pruned:
    runs: int
    steps: int
    events: int


class Retention:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def prune(self, policy: Policy) -> Pruned:
        """Delete the history older than ``policy.max_age`` (see the module docstring); what was deleted."""
        cutoff: datetime = self._ctx.clock() - policy.max_age
        with self._ctx.write() as conn:
            kept = select(R.c.id).where(R.c.status != RunStatus.RUNNING.value).order_by(R.c.started_at.desc())
            newest = {row.id for row in conn.execute(kept.limit(policy.keep_runs))}
            last_good = conn.execute(
                select(R.c.id).where(R.c.status == RunStatus.SUCCEEDED.value).order_by(R.c.started_at.desc()).limit(1)
            ).scalar()
            protected = newest | ({last_good} if last_good else set())
            old = select(R.c.id).where(R.c.status != RunStatus.RUNNING.value, R.c.started_at < cutoff)
            doomed = [row.id for row in conn.execute(old) if row.id not in protected]
            steps = conn.execute(delete(S).where(S.c.run_id.in_(doomed))).rowcount if doomed else 0
            runs = conn.execute(delete(R).where(R.c.id.in_(doomed))).rowcount if doomed else 0
            events = conn.execute(delete(E).where(E.c.at < cutoff)).rowcount
        return Pruned(runs=runs, steps=steps, events=events)
