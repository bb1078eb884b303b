"""Retention: old finished runs, their steps and old events go; running, recent and last-good runs stay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Outcome, RunStatus
from reconciler.store import retention, stores, tables

BUNDLE = BundleId(cluster="eu-1", stack="platform", bundle="ingress")
DAY = 86_400.0


def run_ids(store: stores.Store) -> list[str]:
    with store.context.read() as conn:
        return sorted(conn.execute(select(tables.runs.c.id)).scalars())


def step_count(store: stores.Store) -> int:
    with store.context.read() as conn:
        return len(conn.execute(select(tables.steps.c.id)).all())


def run_with_steps(store: stores.Store, run_id: str, status: RunStatus | None) -> None:
    store.runs.start(run_id, revision=f"main@sha1:{run_id}")
    key = ObjectKey(group="", kind="ConfigMap", namespace="ns", name=run_id)
    store.runs.record_step(run_id, cluster="eu-1", bundle=BUNDLE, key=key, action="create", outcome=Outcome.APPLIED)
    if status is not None:
        store.runs.finish(run_id, status)


def test_old_history_is_pruned_and_what_matters_is_kept(
    store: stores.Store, advance: Callable[[float], datetime]
) -> None:
    run_with_steps(store, "good-old", RunStatus.SUCCEEDED)
    run_with_steps(store, "failed-old", RunStatus.FAILED)
    run_with_steps(store, "running-old", None)
    store.events.add("sync", "old event")
    advance(40 * DAY)
    run_with_steps(store, "failed-new", RunStatus.FAILED)
    store.events.add("sync", "new event")
    pruned = store.retention.prune(retention.Policy(max_age=timedelta(days=30), keep_runs=1))
    left = run_ids(store)
    assert (pruned, left, step_count(store), [e.message for e in store.events.recent()]) == (
        retention.Pruned(runs=1, steps=1, events=1),
        ["failed-new", "good-old", "running-old"],
        3,
        ["new event"],
    )


def test_the_newest_runs_are_kept_whatever_their_age(
    store: stores.Store, advance: Callable[[float], datetime]
) -> None:
    for n in range(3):
        run_with_steps(store, f"r{n}", RunStatus.FAILED)
        advance(1)
    advance(90 * DAY)
    pruned = store.retention.prune(retention.Policy(max_age=timedelta(days=30), keep_runs=2))
    assert (pruned.runs, run_ids(store)) == (1, ["r1", "r2"])
