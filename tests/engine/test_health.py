"""Health rules, one case per row: kind, object, expected health."""

from __future__ import annotations

import pytest

from reconciler.core import health
from reconciler.core.health import Health


def obj(api_version: str, kind: str, *, spec=None, status=None, generation=1) -> dict:
    found = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "generation": generation}}
    if spec is not None:
        found["spec"] = spec
    if status is not None:
        found["status"] = status
    return found


def conditions(**states: str) -> dict:
    return {"conditions": [{"type": t, "status": s} for t, s in states.items()]}


CASES = {
    "deployment-available": (obj("apps/v1", "Deployment", spec={"replicas": 2}, status={
        "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}), Health.HEALTHY),
    "deployment-rolling": (obj("apps/v1", "Deployment", spec={"replicas": 2}, status={
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}), Health.PROGRESSING),
    "deployment-old-generation": (obj("apps/v1", "Deployment", generation=2, spec={"replicas": 1}, status={
        "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}), Health.PROGRESSING),
    "deployment-deadline-exceeded": (obj("apps/v1", "Deployment", status={
        "observedGeneration": 1, **conditions(Progressing="False")}), Health.DEGRADED),
    "deployment-no-status": (obj("apps/v1", "Deployment"), Health.PROGRESSING),
    "statefulset-ready": (obj("apps/v1", "StatefulSet", spec={"replicas": 2}, status={
        "observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2}), Health.HEALTHY),
    "statefulset-starting": (obj("apps/v1", "StatefulSet", spec={"replicas": 2}, status={
        "observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 2}), Health.PROGRESSING),
    "daemonset-available": (obj("apps/v1", "DaemonSet", status={
        "observedGeneration": 1, "desiredNumberScheduled": 3, "numberAvailable": 3,
        "updatedNumberScheduled": 3}), Health.HEALTHY),
    "daemonset-updating": (obj("apps/v1", "DaemonSet", status={
        "observedGeneration": 1, "desiredNumberScheduled": 3, "numberAvailable": 3,
        "updatedNumberScheduled": 1}), Health.PROGRESSING),
    "job-complete": (obj("batch/v1", "Job", status=conditions(Complete="True")), Health.HEALTHY),
    "job-failed": (obj("batch/v1", "Job", status=conditions(Failed="True")), Health.DEGRADED),
    "job-running": (obj("batch/v1", "Job", status={"active": 1}), Health.PROGRESSING),
    "crd-established": (obj("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                            status=conditions(Established="True")), Health.HEALTHY),
    "crd-names-rejected": (obj("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                               status=conditions(NamesAccepted="False")), Health.DEGRADED),
    "crd-pending": (obj("apiextensions.k8s.io/v1", "CustomResourceDefinition"), Health.PROGRESSING),
    "namespace-active": (obj("v1", "Namespace", status={"phase": "Active"}), Health.HEALTHY),
    "namespace-terminating": (obj("v1", "Namespace", status={"phase": "Terminating"}), Health.DEGRADED),
    "pvc-bound": (obj("v1", "PersistentVolumeClaim", status={"phase": "Bound"}), Health.HEALTHY),
    "pvc-pending": (obj("v1", "PersistentVolumeClaim", status={"phase": "Pending"}), Health.PROGRESSING),
    "pvc-lost": (obj("v1", "PersistentVolumeClaim", status={"phase": "Lost"}), Health.DEGRADED),
    "service-cluster-ip": (obj("v1", "Service", spec={"type": "ClusterIP"}), Health.HEALTHY),
    "service-lb-pending": (obj("v1", "Service", spec={"type": "LoadBalancer"}), Health.PROGRESSING),
    "service-lb-ready": (obj("v1", "Service", spec={"type": "LoadBalancer"},
                             status={"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}), Health.HEALTHY),
    "custom-ready": (obj("example.dev/v1", "Widget", status=conditions(Ready="True")), Health.HEALTHY),
    "custom-not-available": (obj("example.dev/v1", "Widget", status=conditions(Available="False")),
                             Health.PROGRESSING),
    "configmap": (obj("v1", "ConfigMap"), Health.HEALTHY),
    "malformed-status": (obj("apps/v1", "Deployment", status="garbage"), Health.PROGRESSING),
    "malformed-conditions": (obj("example.dev/v1", "Widget", status={"conditions": "nope"}), Health.HEALTHY),
    "malformed-metadata": ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": "bad",
                            "status": {"replicas": 1}}, Health.UNKNOWN),
    "missing": (None, Health.UNKNOWN),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_health_rule(case: str) -> None:
    found, expected = CASES[case]
    assert health.check(found).health is expected


def test_the_aggregate_is_the_worst() -> None:
    statuses = [health.Status(Health.HEALTHY), health.Status(Health.PROGRESSING), health.Status(Health.DEGRADED)]
    assert health.aggregate(statuses).health is Health.DEGRADED
    assert health.aggregate([*statuses, health.Status(Health.UNKNOWN)]).health is Health.UNKNOWN
    assert health.aggregate([]).health is Health.HEALTHY
