"""The dashboard read path: the latest state per cluster x bundle in one query."""

from __future__ import annotations

from reconciler.core import inventory
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Outcome, Reachability
from reconciler.store import stores

INGRESS = BundleId(cluster="eu-1", stack="platform", bundle="ingress")
CERTS = BundleId(cluster="eu-1", stack="platform", bundle="cert-manager")
KEY = ObjectKey(group="", kind="ConfigMap", namespace="ingress", name="cfg")


def fill(store: stores.Store) -> None:
    entries = (inventory.Entry(key=KEY), inventory.Entry(key=ObjectKey("", "Service", "ingress", "svc")))
    store.inventories.put(
        inventory.BundleInventory(dest="eu-1", bundle=INGRESS, revision="r2", entries=entries)
    )
    store.runs.start("run", revision="r2")
    store.runs.record_step(
        "run", cluster="eu-1", bundle=INGRESS, key=KEY, action="update", outcome=Outcome.APPLIED
    )
    store.runs.record_step(
        "run", cluster="eu-1", bundle=CERTS, key=KEY, action="create", outcome=Outcome.FAILED, error="denied"
    )
    store.drifts.report("eu-1", INGRESS, KEY, patch=[], diff="d")
    store.clusters.set_status("eu-1", Reachability.REACHABLE)


def test_every_bundle_gets_one_row_with_its_latest_state(store: stores.Store) -> None:
    fill(store)
    found = [
        (r.bundle.bundle, r.revision, r.objects, r.open_drift, r.outcome) for r in store.dashboards.bundles()
    ]
    assert found == [("cert-manager", "", 0, 0, "failed"), ("ingress", "r2", 2, 1, "applied")]


def test_rows_carry_the_cluster_status(store: stores.Store) -> None:
    fill(store)
    assert {r.reachability for r in store.dashboards.bundles()} == {Reachability.REACHABLE}


def test_rows_filter_by_cluster(store: stores.Store) -> None:
    fill(store)
    assert store.dashboards.bundles(cluster="us-1") == []


def test_a_bundle_with_no_status_row_reads_as_unknown(store: stores.Store) -> None:
    store.inventories.put(inventory.BundleInventory(dest="mgmt", bundle=INGRESS))
    (row,) = store.dashboards.bundles()
    assert (row.reachability, row.updated_at is not None) == (Reachability.UNKNOWN, True)
