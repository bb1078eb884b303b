"""Bundle health as the drift scan records it: upserted per bundle, read per cluster."""

from __future__ import annotations

from reconciler.core.conditions import Health
from reconciler.core.desired import BundleId
from reconciler.store import rows, tables
from reconciler.store.stores import Store

WEB = BundleId("eu-1", "platform", "web")
CAPI = BundleId("eu-1", "base", "capi")


def test_health_is_upserted_and_read_for_a_cluster_and_its_bundles_elsewhere(store: Store) -> None:
    store.health.record([("eu-1", WEB, Health.PROGRESSING, "1/2 ready"), ("mgmt", CAPI, Health.HEALTHY, "")])
    store.health.record([("eu-1", WEB, Health.HEALTHY, "")])
    found = sorted((h.cluster, h.bundle.bundle, h.health.label) for h in store.health.of_cluster("eu-1"))
    assert found == [("eu-1", "web", "Healthy"), ("mgmt", "capi", "Healthy")]


def test_a_label_outside_the_set_reads_back_as_unknown(store: Store) -> None:
    """A row written by another version (or by hand) is not a crash of the dashboard: Unknown."""
    with store.context.write() as conn:
        conn.execute(tables.bundle_health.insert().values(
            **rows.bundle_values("eu-1", WEB), health="Sideways", reason="", updated_at=store.context.clock()))
    assert [h.health for h in store.health.of_cluster("eu-1")] == [Health.UNKNOWN]
