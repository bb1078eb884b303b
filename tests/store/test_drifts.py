"""Drift entries: upserts keep first-seen, resolved drift that returns starts again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from reconciler.core import diff
from reconciler.core.desired import BundleId
from reconciler.core.drift import Kind, Who
from reconciler.core.objects import ObjectKey
from reconciler.store import stores

Clock = Callable[[], datetime]
Advance = Callable[[float], datetime]
BUNDLE = BundleId(cluster="eu-1", stack="platform", bundle="ingress")
KEY = ObjectKey(group="apps", kind="Deployment", namespace="ingress", name="controller")
PATCH = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
KUBECTL = Who(manager="kubectl-edit", operation="Update", time=datetime(2026, 1, 1, 11, 0, tzinfo=UTC))


def report(store: stores.Store, *, replicas: int = 3, key: ObjectKey = KEY) -> None:
    patch = [{"op": "replace", "path": "/spec/replicas", "value": replicas}]
    store.drifts.report("eu-1", BUNDLE, key, patch=patch, diff=f"replicas: {replicas}", who=KUBECTL)


def test_drift_seen_again_keeps_its_first_seen_time(
    store: stores.Store, clock: Clock, advance: Advance
) -> None:
    first = clock()
    report(store)
    later = advance(60)
    report(store, replicas=5)
    (drift,) = store.drifts.open()
    assert (drift.first_seen, drift.last_seen, drift.diff) == (first, later, "replicas: 5")


def test_drift_records_who_changed_the_field(store: stores.Store) -> None:
    report(store)
    assert store.drifts.open()[0].who == KUBECTL


def test_drift_patch_round_trips(store: stores.Store) -> None:
    store.drifts.report("eu-1", BUNDLE, KEY, patch=PATCH, diff="d")
    assert store.drifts.open()[0].patch == tuple(PATCH)


def test_a_scan_that_no_longer_finds_drift_resolves_it(store: stores.Store) -> None:
    other = ObjectKey(group="", kind="ConfigMap", namespace="ingress", name="cfg")
    report(store)
    report(store, key=other)
    closed = store.drifts.resolve_others("eu-1", BUNDLE, still=[other])
    assert (closed, [d.object_key for d in store.drifts.open()]) == (1, [str(other)])


def test_drift_that_comes_back_after_resolution_starts_again(
    store: stores.Store, clock: Clock, advance: Advance
) -> None:
    report(store)
    advance(60)
    store.drifts.resolve_others("eu-1", BUNDLE, still=[])
    again = advance(60)
    report(store)
    assert store.drifts.open()[0].first_seen == again


def test_open_drift_is_counted(store: stores.Store) -> None:
    report(store)
    assert store.drifts.count_open() == 1


def test_an_object_deleted_out_of_band_reads_back_as_missing(store: stores.Store) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "controller"}}
    gone = diff.compare(desired=deployment, live=None)
    store.drifts.report("eu-1", BUNDLE, KEY, patch=list(gone.patch), diff=gone.text)
    report(store, key=ObjectKey(group="apps", kind="Deployment", namespace="ingress", name="other"))
    assert sorted((d.object_key, d.kind) for d in store.drifts.open()) == [
        (str(KEY), Kind.MISSING), ("Deployment.apps/ingress/other", Kind.MODIFIED),
    ]
