"""Kubernetes version changes (core.upgrades) and topology rollouts (core.clusterapi.rolled_out), one case per row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.core import clusterapi, plan_views, planner, plans, upgrades
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.health import Health
from reconciler.core.inventory import Inventory
from reconciler.core.live import LiveCluster
from reconciler.core.objects import (
    ANNOTATION_OWNER,
    LABEL_BUNDLE,
    LABEL_FLEET,
    LABEL_STACK,
    ObjectKey,
    owner_annotation,
)
from reconciler.core.upgrades import Direction


def capi_cluster(version: str) -> dict[str, Any]:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "c"},
            "spec": {"topology": {"version": version, "workers": {"machineDeployments": [{"name": "md-0"}]}}}}


DIRECTIONS = {
    "patch": ("v1.31.1", "v1.31.2", Direction.UPGRADE, ""),
    "one-minor": ("v1.30.6", "v1.31.2", Direction.UPGRADE, ""),
    "downgrade": ("v1.31.2", "v1.30.6", Direction.DOWNGRADE, "Kubernetes v1.31.2 → v1.30.6 on c is a downgrade "
                  "(Kubernetes does not support downgrading a control plane)"),
    "patch-downgrade": ("v1.31.2", "v1.31.1", Direction.DOWNGRADE, "Kubernetes v1.31.2 → v1.31.1 on c is a downgrade "
                        "(Kubernetes does not support downgrading a control plane)"),
    "two-minors": ("v1.30.6", "v1.32.0", Direction.SKIP, "Kubernetes v1.30.6 → v1.32.0 on c skips minor versions "
                   "(a control plane upgrades one minor version at a time)"),
    "k0s-build-metadata": ("v1.30.6+k0s.0", "v1.31.2+k0s.0", Direction.UPGRADE, ""),
}


@pytest.mark.parametrize("case", sorted(DIRECTIONS))
def test_direction_and_approval(case: str) -> None:
    old, new, direction, approval = DIRECTIONS[case]
    moved = upgrades.change_of(capi_cluster(old), capi_cluster(new), cluster="c")
    assert moved is not None and (moved.direction, moved.approval) == (direction, approval)


VERSIONS = {
    "cluster-topology": (capi_cluster("v1.31.2"), "v1.31.2"),
    "control-plane": ({"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1", "kind": "KubeadmControlPlane",
                       "metadata": {"name": "c"}, "spec": {"version": "v1.31.2"}}, "v1.31.2"),
    "machine-deployment": ({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "MachineDeployment",
                            "metadata": {"name": "c"}, "spec": {"template": {"spec": {"version": "v1.30.6"}}}},
                           "v1.30.6"),
    "other-kind-with-a-version": ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                   "spec": {"version": "v1.31.2"}}, ""),
    "not-a-version": (capi_cluster("latest"), ""),
    "malformed-topology": ({**capi_cluster("v1"), "spec": {"topology": "nope"}}, ""),
}


@pytest.mark.parametrize("case", sorted(VERSIONS))
def test_version_of(case: str) -> None:
    found, expected = VERSIONS[case]
    assert upgrades.version_of(found) == expected


def test_same_version_is_no_change() -> None:
    assert upgrades.change_of(capi_cluster("v1.31.2"), capi_cluster("v1.31.2"), cluster="c") is None


def control_plane(version: str) -> dict[str, Any]:
    return {"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1", "kind": "KubeadmControlPlane",
            "metadata": {"name": "c-cp", "generation": 2},
            "spec": {"version": version, "replicas": 1},
            "status": {"observedGeneration": 2, "initialized": True, "ready": True, "version": version,
                       "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1}}


def machine_deployment(version: str, *, updated: int = 2) -> dict[str, Any]:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "MachineDeployment",
            "metadata": {"name": "c-md-0", "generation": 3},
            "spec": {"replicas": 2, "template": {"spec": {"version": version}}},
            "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": updated, "availableReplicas": 2}}


ROLLOUTS = {
    "done": ([control_plane("v1.31.2")], [machine_deployment("v1.31.2")], Health.HEALTHY),
    "no-control-plane-yet": ([], [machine_deployment("v1.31.2")], Health.PROGRESSING),
    "control-plane-behind": ([control_plane("v1.30.6")], [machine_deployment("v1.30.6")], Health.PROGRESSING),
    "workers-template-behind": ([control_plane("v1.31.2")], [machine_deployment("v1.30.6")], Health.PROGRESSING),
    "workers-rolling": ([control_plane("v1.31.2")], [machine_deployment("v1.31.2", updated=1)], Health.PROGRESSING),
    "workers-missing": ([control_plane("v1.31.2")], [], Health.PROGRESSING),
}


@pytest.mark.parametrize("case", sorted(ROLLOUTS))
def test_rolled_out(case: str) -> None:
    planes, workers, expected = ROLLOUTS[case]
    found = clusterapi.rolled_out(capi_cluster("v1.31.2"), control_planes=planes, machine_deployments=workers)
    assert found.health is expected


def marked_cluster(version: str) -> dict[str, Any]:
    found = capi_cluster(version)
    key = ObjectKey("cluster.x-k8s.io", "Cluster", "fleet-clusters", "prod-eu-1")
    found["metadata"] = {"name": "prod-eu-1", "namespace": "fleet-clusters",
                         "labels": {LABEL_FLEET: "acme", LABEL_STACK: "cluster-base", LABEL_BUNDLE: "capi-cluster"},
                         "annotations": {ANNOTATION_OWNER: owner_annotation(
                             fleet="acme", stack="cluster-base", bundle="capi-cluster", key=key)}}
    return found


def plan_of(live_version: str, desired_version: str) -> plans.Plan:
    bundle = DesiredBundle(id=BundleId("prod-eu-1", "cluster-base", "capi-cluster"), dest="mgmt", fleet="acme",
                           version="1.1.0", layer="cluster", layer_index=1, depends_on=(),
                           objects=(marked_cluster(desired_version),))
    return planner.plan(desired=[bundle], failures=[],
                        live={"mgmt": LiveCluster.reachable("mgmt", objects=[marked_cluster(live_version)])},
                        inventory=Inventory(), policy=planner.PlanPolicy(), revision="main@sha1:abc",
                        previous_revision_forced=False, now=datetime(2026, 1, 2, tzinfo=UTC))


def test_the_plan_views_name_the_version_change_and_the_artifact_keeps_it() -> None:
    plan = plan_of("v1.30.6", "v1.31.2")
    assert "Kubernetes versions:\n  Kubernetes v1.30.6 → v1.31.2 on prod-eu-1 (step 1)\n" in plan_views.text(plan)
    assert "- Kubernetes v1.30.6 → v1.31.2 on prod-eu-1 \\(step 1\\)" in plan_views.markdown(plan)  # escaped Markdown
    assert plans.from_json(plans.to_json(plan)).changes == plan.changes


def test_a_planned_downgrade_needs_approval_and_says_so_in_the_views() -> None:
    plan = plan_of("v1.31.2", "v1.30.6")
    assert [c.needs_approval for c in plan.steps] == [True]
    assert "Kubernetes v1.31.2 → v1.30.6 on prod-eu-1 (step 1) [needs approval]" in plan_views.text(plan)


def test_an_unchanged_version_is_not_mentioned() -> None:
    plan = plan_of("v1.31.2", "v1.31.2")
    assert "Kubernetes" not in plan_views.text(plan)
