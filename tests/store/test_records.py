"""Revisions, plans, cluster status and events: the small parts of the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from reconciler.core import plans
from reconciler.core.statuses import PlanStatus, Reachability, RevisionStatus
from reconciler.errors import StoreError
from reconciler.redactions import Redactor
from reconciler.store import stores

Clock = Callable[[], datetime]
Advance = Callable[[float], datetime]


def test_a_revision_seen_twice_keeps_its_first_time(
    store: stores.Store, clock: Clock, advance: Advance
) -> None:
    first = clock()
    store.revisions.record_seen("fleet", "main@sha1:aaa")
    advance(30)
    assert store.revisions.record_seen("fleet", "main@sha1:aaa").seen_at == first


def test_marking_a_revision_applied_records_when(store: stores.Store, advance: Advance) -> None:
    store.revisions.record_seen("fleet", "main@sha1:aaa", forced=True)
    when = advance(30)
    applied = store.revisions.mark("fleet", "main@sha1:aaa", RevisionStatus.APPLIED)
    assert (applied.status, applied.applied_at, applied.forced) == (RevisionStatus.APPLIED, when, True)


def test_latest_applied_skips_later_failures(store: stores.Store) -> None:
    store.revisions.record_seen("fleet", "main@sha1:aaa")
    store.revisions.mark("fleet", "main@sha1:aaa", RevisionStatus.APPLIED)
    store.revisions.record_seen("fleet", "main@sha1:bbb")
    store.revisions.mark("fleet", "main@sha1:bbb", RevisionStatus.INVALID, error="fleet.yaml:3: bad")
    latest = store.revisions.latest("fleet", status=RevisionStatus.APPLIED)
    assert latest is not None and latest.revision == "main@sha1:aaa"


def test_revision_history_is_newest_first(store: stores.Store) -> None:
    for sha in ("a", "b", "c"):
        store.revisions.record_seen("fleet", f"main@sha1:{sha}")
    assert [r.revision for r in store.revisions.history("fleet", limit=2)] == ["main@sha1:c", "main@sha1:b"]


def test_a_plan_keeps_its_pull_request_and_status(store: stores.Store) -> None:
    plan = plans.Plan(revision="pr-7@sha1:abc", created_at="2026-01-01T00:00:00Z")
    store.plans.save("p-7", plan, pr_number=7, pr_branch="feature")
    store.plans.set_status("p-7", PlanStatus.STALE)
    assert [(p.id, p.status, p.pr_branch) for p in store.plans.for_pull_request(7)] == [
        ("p-7", PlanStatus.STALE, "feature")
    ]


def test_an_unknown_plan_is_a_store_error(store: stores.Store) -> None:
    with pytest.raises(StoreError, match="no such plan"):
        store.plans.set_status("nope", PlanStatus.APPLIED)


def test_last_seen_moves_only_when_the_cluster_answered(
    store: stores.Store, clock: Clock, advance: Advance
) -> None:
    reached = clock()
    store.clusters.set_status("eu-1", Reachability.REACHABLE)
    advance(60)
    down = store.clusters.set_status("eu-1", Reachability.UNREACHABLE, error="connection refused")
    assert (down.status, down.last_seen, down.last_error) == (
        Reachability.UNREACHABLE,
        reached,
        "connection refused",
    )


def test_pausing_keeps_the_reachability(store: stores.Store) -> None:
    store.clusters.set_status("eu-1", Reachability.AUTH_FAILED)
    paused = store.clusters.set_paused("eu-1", paused=True)
    assert (paused.status, paused.paused) == (Reachability.AUTH_FAILED, True)


def test_events_are_capped_to_the_newest(db_path: Path, clock: Clock, redactor: Redactor) -> None:
    capped = stores.open_store(str(db_path), clock=clock, redactor=redactor, event_cap=5)
    for i in range(12):
        capped.events.add("sync", f"event {i}")
    messages = [e.message for e in capped.events.recent()]
    capped.close()
    assert messages == [f"event {i}" for i in range(11, 6, -1)]


def test_events_filter_by_cluster(store: stores.Store) -> None:
    store.events.add("sync", "one", cluster="eu-1")
    store.events.add("sync", "two", cluster="us-1")
    assert [e.message for e in store.events.recent(cluster="us-1")] == ["two"]
