"""Table-driven tests of the ordering key and the step DAG."""

from __future__ import annotations

import pytest

from reconciler.core import ordering
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.errors import PlanError

RANKS = [
    (ObjectKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "x"), 0),
    (ObjectKey("", "Namespace", "", "x"), 1),
    (ObjectKey("rbac.authorization.k8s.io", "ClusterRole", "", "x"), 2),
    (ObjectKey("", "ConfigMap", "n", "x"), 2),
    (ObjectKey("apps", "Deployment", "n", "x"), 3),
    (ObjectKey("example.com", "Widget", "n", "x"), 4),
]


@pytest.mark.parametrize(("key", "rank"), RANKS, ids=[str(k) for k, _ in RANKS])
def test_kind_rank(key: ObjectKey, rank: int) -> None:
    assert ordering.kind_rank(key) == rank


WAVES = [
    ({"metadata": {"annotations": {"stackfleet.dev/wave": "-2"}}}, -2),
    ({"metadata": {}}, 0),
    ({"metadata": {"annotations": {"stackfleet.dev/wave": "soon"}}}, 0),
]


@pytest.mark.parametrize(("obj", "wave"), WAVES)
def test_wave_of(obj: dict[str, object], wave: int) -> None:
    assert ordering.wave_of(obj) == wave


A = BundleId("c1", "s", "a")
B = BundleId("c1", "s", "b")
CM = ObjectKey("", "ConfigMap", "n", "cm")
NS = ObjectKey("", "Namespace", "", "n")
DEP = ObjectKey("apps", "Deployment", "n", "d")


def names(items: list[ordering.Item], bundles: list[ordering.BundleNode]) -> list[tuple[str, list[int]]]:
    order = ordering.sequence(items, bundles=bundles)
    position = {index: n for n, (index, _) in enumerate(order, start=1)}
    return [
        (
            f"{'-' if items[i].delete else '+'}{items[i].key.kind}@{items[i].bundle.bundle}",
            sorted(position[w] for w in waits),
        )
        for i, waits in order
    ]


def test_kind_rank_then_wave_then_depends_on() -> None:
    items = [
        ordering.Item(B, "c1", DEP),
        ordering.Item(A, "c1", DEP, wave=1),
        ordering.Item(A, "c1", CM),
        ordering.Item(A, "c1", NS),
    ]
    bundles = [ordering.BundleNode(A, "c1", "addons", 2), ordering.BundleNode(B, "c1", "addons", 2, ("a",))]
    assert names(items, bundles) == [
        ("+Namespace@a", []),
        ("+ConfigMap@a", [1]),
        ("+Deployment@a", [2]),
        ("+Deployment@b", [3]),
    ]


def test_deletes_last_in_reverse_order() -> None:
    items = [
        ordering.Item(A, "c1", NS, delete=True),
        ordering.Item(A, "c1", DEP, delete=True),
        ordering.Item(A, "c1", CM),
    ]
    bundles = [ordering.BundleNode(A, "c1", "addons", 2)]
    assert names(items, bundles) == [("+ConfigMap@a", []), ("-Deployment@a", [1]), ("-Namespace@a", [2])]


def test_lower_layer_first() -> None:
    items = [ordering.Item(A, "c1", CM), ordering.Item(B, "c1", CM)]
    bundles = [ordering.BundleNode(A, "c1", "addons", 2), ordering.BundleNode(B, "c1", "infra", 0)]
    assert names(items, bundles) == [("+ConfigMap@b", []), ("+ConfigMap@a", [1])]


def test_dependency_cycle_is_named() -> None:
    bundles = [
        ordering.BundleNode(A, "c1", "addons", 2, ("b",)),
        ordering.BundleNode(B, "c1", "addons", 2, ("a",)),
    ]
    with pytest.raises(PlanError, match="dependency cycle between bundles: c1/s/a -> c1/s/b -> c1/s/a"):
        ordering.sequence([ordering.Item(A, "c1", CM)], bundles=bundles)


def test_provided_kind_of_a_crd() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "ws.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "W"}},
    }
    assert ordering.provided_kind(crd) == "W.example.com"


def test_custom_resource_waits_for_the_crd_of_another_bundle() -> None:
    crd = ObjectKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "ws.example.com")
    widget = ObjectKey("example.com", "W", "n", "w")
    items = [ordering.Item(A, "c1", widget), ordering.Item(B, "c1", crd, provides="W.example.com")]
    bundles = [ordering.BundleNode(A, "c1", "addons", 2), ordering.BundleNode(B, "c1", "addons", 2)]
    assert names(items, bundles) == [("+CustomResourceDefinition@b", []), ("+W@a", [1])]


def test_child_cluster_bundles_wait_for_its_cluster_layer_on_management() -> None:
    capi, addon, other = (
        BundleId("c1", "p", "capi"),
        BundleId("c1", "p", "addon"),
        BundleId("c2", "p", "addon"),
    )
    items = [ordering.Item(addon, "c1", CM), ordering.Item(other, "c2", CM), ordering.Item(capi, "mgmt", DEP)]
    bundles = [
        ordering.BundleNode(capi, "mgmt", "cluster", 1),
        ordering.BundleNode(addon, "c1", "addons", 1),
        ordering.BundleNode(other, "c2", "addons", 1),
    ]
    order = ordering.sequence(items, bundles=bundles)
    assert [(items[i].dest, len(waits)) for i, waits in order] == [("mgmt", 0), ("c2", 0), ("c1", 1)]
