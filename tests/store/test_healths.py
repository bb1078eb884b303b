"""Bundle health as the drift scan records it: upserted per bundle, read per cluster."""

from __future__ import annotations

from reconciler.core.desired import BundleId
from reconciler.store.stores import Store

WEB = BundleId("eu-1", "platform", "web")
CAPI = BundleId("eu-1", "base", "capi")


def test_health_is_upserted_and_read_for_a_cluster_and_its_bundles_elsewhere(store: Store) -> None:
    store.health.record([("eu-1", WEB, "Progressing", "1/2 ready"), ("mgmt", CAPI, "Healthy", "")])
    store.health.record([("eu-1", WEB, "Healthy", "")])
    found = sorted((h.cluster, h.bundle.bundle, h.health) for h in store.health.of_cluster("eu-1"))
    assert found == [("eu-1", "web", "Healthy"), ("mgmt", "capi", "Healthy")]
