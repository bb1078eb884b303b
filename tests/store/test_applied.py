"""Applied objects: the last applied desired set per bundle, replaced as a whole, read in one query."""

from __future__ import annotations

from reconciler.core.desired import BundleId
from reconciler.core.statuses import Outcome
from reconciler.store.stores import Store

BUNDLE = BundleId("eu-1", "platform", "web")


def config_map(name: str, **data: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "apps"},
        "data": data,
    }


def test_recording_a_bundle_replaces_its_set(store: Store) -> None:
    store.applied.record("eu-1", BUNDLE, [config_map("a"), config_map("b")], revision="r1")
    store.applied.record("eu-1", BUNDLE, [config_map("b", x="1")], revision="r2")
    assert [(r.object_key, r.revision, r.body["data"]) for r in store.applied.all()] == [
        ("ConfigMap/apps/b", "r2", {"x": "1"})
    ]


def test_reading_is_filtered_by_cluster(store: Store) -> None:
    store.applied.record("eu-1", BUNDLE, [config_map("a")], revision="r1")
    store.applied.record("mgmt", BUNDLE, [config_map("c")], revision="r1")
    assert [r.cluster for r in store.applied.all(clusters=["mgmt"])] == ["mgmt"]


def test_secret_looking_values_are_redacted_on_the_way_in(store: Store) -> None:
    store.applied.record("eu-1", BUNDLE, [config_map("a", password="hunter2-canary")], revision="r1")
    assert "hunter2-canary" not in str(store.applied.all()[0].body)


def test_recent_steps_of_a_cluster_include_its_bundles_applied_elsewhere(store: Store) -> None:
    store.runs.start("run-1", revision="r1")
    store.runs.record_step("run-1", cluster="mgmt", bundle=BundleId("eu-1", "base", "capi"), key="Cluster/x",
                           action="create", outcome=Outcome.APPLIED)
    store.runs.record_step("run-1", cluster="us-1", bundle=BundleId("us-1", "base", "web"), key="ConfigMap/y",
                           action="create", outcome=Outcome.APPLIED)
    assert [s.object_key for s in store.runs.recent_steps(cluster="eu-1")] == ["Cluster/x"]
