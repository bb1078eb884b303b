"""Health of Cluster API objects, one case per row (core.clusterapi through health.check)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core import health
from reconciler.core.health import Health

V1 = "cluster.x-k8s.io/v1beta1"
V2 = "cluster.x-k8s.io/v1beta2"


def obj(api_version: str, kind: str, *, spec: Any = None, status: Any = None, generation: int = 2,
        deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "x", "namespace": "fleet-clusters", "generation": generation}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    found: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    if spec is not None:
        found["spec"] = spec
    if status is not None:
        found["status"] = status
    return found


def conds(**states: str) -> list[dict[str, str]]:
    return [{"type": t, "status": s} for t, s in states.items()]


READY_V1 = conds(Ready="True", ControlPlaneReady="True", InfrastructureReady="True")
AVAILABLE_V2 = conds(Available="True", ControlPlaneAvailable="True", InfrastructureReady="True",
                     WorkersAvailable="True", RollingOut="False", ScalingUp="False", ScalingDown="False",
                     Remediating="False", TopologyReconciled="True")


def with_v2(**states: str) -> list[dict[str, str]]:
    return [c if c["type"] not in states else {**c, "status": states[c["type"]]} for c in AVAILABLE_V2]


CP_STATUS = {"observedGeneration": 2, "initialized": True, "ready": True, "version": "v1.31.2", "replicas": 3,
             "updatedReplicas": 3, "readyReplicas": 3, "unavailableReplicas": 0}
MD_STATUS = {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
             "availableReplicas": 3, "phase": "Running"}

CASES: dict[str, tuple[Any, Health]] = {
    # Cluster, v1beta1 conditions
    "cluster-v1beta1-ready": (obj(V1, "Cluster", status={"observedGeneration": 2, "conditions": READY_V1}),
                              Health.HEALTHY),
    "cluster-ready-but-control-plane-not": (obj(V1, "Cluster", status={"observedGeneration": 2, "conditions": conds(
        Ready="True", ControlPlaneReady="False", InfrastructureReady="True")}), Health.PROGRESSING),
    "cluster-ready-but-infrastructure-not": (obj(V1, "Cluster", status={"observedGeneration": 2, "conditions": conds(
        Ready="True", ControlPlaneReady="True", InfrastructureReady="False")}), Health.PROGRESSING),
    "cluster-ready-with-a-stale-observed-generation": (
        obj(V1, "Cluster", status={"observedGeneration": 1, "conditions": READY_V1}), Health.PROGRESSING),
    "cluster-ready-without-observed-generation": (obj(V1, "Cluster", status={"conditions": READY_V1}),
                                                  Health.PROGRESSING),
    "cluster-ready-but-infrastructure-flag-false": (obj(V1, "Cluster", status={
        "observedGeneration": 2, "conditions": READY_V1, "infrastructureReady": False}), Health.PROGRESSING),
    "cluster-topology-upgrade-pending": (obj(V1, "Cluster", status={"observedGeneration": 2, "conditions": [
        *READY_V1, {"type": "TopologyReconciled", "status": "False", "reason": "ControlPlaneUpgradePending"}]}),
        Health.PROGRESSING),
    "cluster-failed": (obj(V1, "Cluster", status={"observedGeneration": 2, "phase": "Failed"}), Health.DEGRADED),
    "cluster-failure-message": (obj(V1, "Cluster", status={"observedGeneration": 2, "failureReason": "InvalidConfiguration",
                                                           "failureMessage": "bad CIDR"}), Health.DEGRADED),
    "cluster-provisioning": (obj(V1, "Cluster", status={"observedGeneration": 2, "phase": "Provisioning"}),
                             Health.PROGRESSING),
    "cluster-no-status": (obj(V1, "Cluster"), Health.PROGRESSING),
    "cluster-deleting": (obj(V1, "Cluster", deleting=True, status={"observedGeneration": 2, "conditions": READY_V1}),
                         Health.PROGRESSING),
    # Cluster, v1beta2 conditions (in status.v1beta2 of a v1beta1 object, or status.conditions of a v1beta2 one)
    "cluster-v1beta1-with-v1beta2-available": (obj(V1, "Cluster", status={
        "observedGeneration": 2, "conditions": READY_V1, "v1beta2": {"conditions": AVAILABLE_V2}}), Health.HEALTHY),
    "cluster-v1beta2-available-without-ready": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": AVAILABLE_V2}), Health.HEALTHY),
    "cluster-v1beta2-only-available": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": conds(Available="True")}), Health.HEALTHY),
    "cluster-v1beta2-not-available": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": with_v2(Available="False")}), Health.PROGRESSING),
    "cluster-v1beta2-control-plane-unavailable": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": with_v2(ControlPlaneAvailable="False")}), Health.PROGRESSING),
    "cluster-v1beta2-rolling-out": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": with_v2(RollingOut="True")}), Health.PROGRESSING),
    "cluster-v1beta2-scaling-up": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": with_v2(ScalingUp="True")}), Health.PROGRESSING),
    "cluster-v1beta2-scaling-down": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": with_v2(ScalingDown="True")}), Health.PROGRESSING),
    "cluster-v1beta2-remediating": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": with_v2(Remediating="True")}), Health.PROGRESSING),
    "cluster-v1beta2-available-for-an-older-generation": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": [{"type": "Available", "status": "True", "observedGeneration": 1}]}),
        Health.PROGRESSING),
    "cluster-v1beta2-failure-in-deprecated": (obj(V2, "Cluster", status={
        "observedGeneration": 2, "conditions": AVAILABLE_V2,
        "deprecated": {"v1beta1": {"failureMessage": "cloud quota exceeded"}}}), Health.DEGRADED),
    # control planes
    "kubeadm-control-plane-ready": (obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane", spec={
        "version": "v1.31.2", "replicas": 3}, status=CP_STATUS), Health.HEALTHY),
    "kubeadm-control-plane-old-version": (obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane", spec={
        "version": "v1.31.2", "replicas": 3}, status={**CP_STATUS, "version": "v1.30.6"}), Health.PROGRESSING),
    "kubeadm-control-plane-rolling": (obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane", spec={
        "version": "v1.31.2", "replicas": 3}, status={**CP_STATUS, "updatedReplicas": 1}), Health.PROGRESSING),
    "kubeadm-control-plane-surge": (obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane", spec={
        "version": "v1.31.2", "replicas": 3}, status={**CP_STATUS, "replicas": 4}), Health.PROGRESSING),
    "kubeadm-control-plane-not-initialized": (obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane",
        spec={"version": "v1.31.2"}, status={**CP_STATUS, "initialized": False}), Health.PROGRESSING),
    "kubeadm-control-plane-v1beta2-initialized": (obj("controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane",
        spec={"version": "v1.31.2", "replicas": 1}, status={
            "observedGeneration": 2, "initialization": {"controlPlaneInitialized": True}, "version": "v1.31.2",
            "replicas": 1, "upToDateReplicas": 1, "availableReplicas": 1, "conditions": conds(Available="True")}),
        Health.HEALTHY),
    "k0s-control-plane-not-ready": (obj("controlplane.cluster.x-k8s.io/v1beta1", "K0sControlPlane", spec={
        "version": "v1.31.2+k0s.0", "replicas": 3}, status={**CP_STATUS, "version": "v1.31.2+k0s.0",
                                                             "ready": False}), Health.PROGRESSING),
    "k0smotron-control-plane-ready": (obj("controlplane.cluster.x-k8s.io/v1beta1", "K0smotronControlPlane", spec={
        "version": "v1.31.2-k0s.0", "replicas": 1}, status={
            "observedGeneration": 2, "ready": True, "initialized": True, "externalManagedControlPlane": True,
            "version": "v1.31.2-k0s.0", "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
            "unavailableReplicas": 0}), Health.HEALTHY),
    "k0smotron-control-plane-status-ready-false": (obj("controlplane.cluster.x-k8s.io/v1beta1",
        "K0smotronControlPlane", spec={"replicas": 1}, status={"observedGeneration": 2, "ready": False,
                                                               "initialized": True}), Health.PROGRESSING),
    # infrastructure and bootstrap providers
    "aws-cluster-ready": (obj("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster", status={
        "observedGeneration": 2, "ready": True}), Health.HEALTHY),
    "aws-cluster-not-ready": (obj("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster", status={
        "observedGeneration": 2, "ready": False}), Health.PROGRESSING),
    "infrastructure-v1beta2-provisioned": (obj("infrastructure.cluster.x-k8s.io/v1beta2", "DockerCluster", status={
        "observedGeneration": 2, "initialization": {"provisioned": True}}), Health.HEALTHY),
    "infrastructure-ready-but-stale": (obj("infrastructure.cluster.x-k8s.io/v1beta1", "DockerCluster", status={
        "observedGeneration": 1, "ready": True}), Health.PROGRESSING),
    "infrastructure-failed": (obj("infrastructure.cluster.x-k8s.io/v1beta1", "AWSMachine", status={
        "observedGeneration": 2, "failureReason": "InsufficientCapacity"}), Health.DEGRADED),
    "infrastructure-template": (obj("infrastructure.cluster.x-k8s.io/v1beta1", "AWSMachineTemplate"), Health.HEALTHY),
    "bootstrap-config-data-secret-created": (obj("bootstrap.cluster.x-k8s.io/v1beta2", "KubeadmConfig", status={
        "observedGeneration": 2, "initialization": {"dataSecretCreated": True}}), Health.HEALTHY),
    # machines
    "machine-deployment-rolled-out": (obj(V1, "MachineDeployment", spec={"replicas": 3}, status=MD_STATUS),
                                      Health.HEALTHY),
    "machine-deployment-rolling": (obj(V1, "MachineDeployment", spec={"replicas": 3}, status={
        **MD_STATUS, "updatedReplicas": 1, "replicas": 4}), Health.PROGRESSING),
    "machine-deployment-stale": (obj(V1, "MachineDeployment", spec={"replicas": 3}, status={
        **MD_STATUS, "observedGeneration": 1}), Health.PROGRESSING),
    "machine-deployment-v1beta2-rolling-out": (obj(V2, "MachineDeployment", spec={"replicas": 3}, status={
        "observedGeneration": 2, "replicas": 3, "upToDateReplicas": 3, "availableReplicas": 3,
        "conditions": conds(Available="True", RollingOut="True")}), Health.PROGRESSING),
    "machine-deployment-failed": (obj(V1, "MachineDeployment", spec={"replicas": 3}, status={
        **MD_STATUS, "phase": "Failed"}), Health.DEGRADED),
    "machine-running": (obj(V1, "Machine", status={"observedGeneration": 2, "phase": "Running"}), Health.HEALTHY),
    "machine-provisioning": (obj(V1, "Machine", status={"observedGeneration": 2, "phase": "Provisioning"}),
                             Health.PROGRESSING),
    # other groups of Cluster API, and the generic fallback
    "addons-object-ready": (obj("addons.cluster.x-k8s.io/v1beta1", "ClusterResourceSet", status={
        "observedGeneration": 2, "conditions": conds(ResourcesApplied="True", Ready="True")}), Health.HEALTHY),
    "addons-object-not-observed": (obj("addons.cluster.x-k8s.io/v1beta1", "ClusterResourceSet", status={
        "observedGeneration": 1}), Health.PROGRESSING),
    "unknown-kind-stale-observed-generation": (obj("example.dev/v1", "Widget", status={
        "observedGeneration": 1, "conditions": conds(Ready="True")}), Health.PROGRESSING),
    "unknown-kind-available": (obj("example.dev/v1", "Widget", status={
        "observedGeneration": 2, "conditions": conds(Available="True")}), Health.HEALTHY),
    "unknown-kind-without-generation-reporting": (obj("example.dev/v1", "Widget", status={
        "conditions": conds(Ready="True")}), Health.HEALTHY),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cluster_api_health(case: str) -> None:
    found, expected = CASES[case]
    assert health.check(found).health is expected


def test_the_reason_names_what_is_missing() -> None:
    stale = obj(V1, "Cluster", status={"observedGeneration": 1, "conditions": READY_V1})
    behind = obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane", spec={"version": "v1.31.2"},
                 status={**CP_STATUS, "version": "v1.30.6"})
    assert [health.check(stale).reason, health.check(behind).reason] == [
        "generation 2 not observed yet (observed 1)", "control plane at v1.30.6, wants v1.31.2"]
