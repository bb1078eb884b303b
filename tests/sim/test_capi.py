"""The simulated Cluster API over HTTP, driven by a fake clock and explicit ticks: provisioning with both
condition sets, a version rollout (control plane, then workers), deletion behind a finalizer, and a
k0smotron-style hosted control plane."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core import health
from reconciler.core.health import Health
from reconciler.sim import capi, testing

CLUSTERS = "/apis/cluster.x-k8s.io/v1beta1/namespaces/fleet/clusters"
MDS = "/apis/cluster.x-k8s.io/v1beta1/namespaces/fleet/machinedeployments"
KCPS = "/apis/controlplane.cluster.x-k8s.io/v1beta1/namespaces/fleet/kubeadmcontrolplanes"
K0SMOTRON = "/apis/controlplane.cluster.x-k8s.io/v1beta1/namespaces/fleet/k0smotroncontrolplanes"


def topology_cluster(name: str, *, version: str = "v1.30.6", klass: str = "acme-standard") -> dict[str, Any]:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": name},
            "spec": {"topology": {"class": klass, "version": version, "controlPlane": {"replicas": 3},
                                  "workers": {"machineDeployments": [
                                      {"name": "md-0", "class": "default-worker", "replicas": 2}]}}}}


@pytest.fixture
def sim(slow: testing.RunningSim) -> testing.RunningSim:
    """``slow`` (provisioning after 60 s of the fake clock) whose rollout phases take 30 s each."""
    slow.controllers.capi.upgrade_after = 30
    capi.install_crd(slow.cluster("mgmt"))
    return slow


@pytest.fixture
def mgmt(sim: testing.RunningSim, make_api: Any) -> Any:
    api = make_api(sim.server.url("mgmt"), sim.cluster("mgmt").token)
    api.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fleet"}})
    return api


def settle(sim: testing.RunningSim, clock: testing.FakeClock, passes: int = 8) -> None:
    for _ in range(passes):
        sim.tick()
        clock.advance(30)


def test_a_provisioned_cluster_reports_both_condition_sets_for_its_generation(sim, mgmt, clock):
    mgmt.post(CLUSTERS, topology_cluster("child"))
    settle(sim, clock)
    found = mgmt.get(f"{CLUSTERS}/child").json()
    status = found["status"]
    assert (found["metadata"]["finalizers"], status["observedGeneration"],
            sorted(c["type"] for c in status["conditions"]),
            sorted((c["type"], c["status"], c["observedGeneration"]) for c in status["v1beta2"]["conditions"])) == (
        ["cluster.cluster.x-k8s.io"], found["metadata"]["generation"],
        ["ControlPlaneReady", "InfrastructureReady", "Ready", "TopologyReconciled"],
        sorted([(t, "True", found["metadata"]["generation"]) for t in (
            "Available", "ControlPlaneAvailable", "InfrastructureReady", "WorkersAvailable", "TopologyReconciled")]
            + [(t, "False", found["metadata"]["generation"]) for t in (
                "RollingOut", "ScalingUp", "ScalingDown", "Remediating")]))
    assert "child" in sim.server.clusters and health.check(found).health is Health.HEALTHY


def test_the_topology_has_a_control_plane_and_machine_deployments_labelled_with_the_cluster(sim, mgmt, clock):
    mgmt.post(CLUSTERS, topology_cluster("child"))
    settle(sim, clock)
    kcp = mgmt.get(f"{KCPS}/child-control-plane").json()
    md = mgmt.get(f"{MDS}/child-md-0").json()
    assert (kcp["spec"], kcp["status"]["version"], md["spec"]["template"]["spec"]["version"],
            md["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"], health.check(kcp).health,
            health.check(md).health) == (
        {"version": "v1.30.6", "replicas": 3}, "v1.30.6", "v1.30.6", "child", Health.HEALTHY, Health.HEALTHY)


def test_a_version_bump_rolls_the_control_plane_first_then_the_workers(sim, mgmt, clock):
    mgmt.post(CLUSTERS, topology_cluster("child"))
    settle(sim, clock)
    mgmt.put(f"{CLUSTERS}/child", {**mgmt.get(f"{CLUSTERS}/child").json(), **topology_cluster(
        "child", version="v1.31.2")} | {"metadata": mgmt.get(f"{CLUSTERS}/child").json()["metadata"]})
    seen = []
    for _ in range(5):
        cluster = mgmt.get(f"{CLUSTERS}/child").json()
        kcp, md = mgmt.get(f"{KCPS}/child-control-plane").json(), mgmt.get(f"{MDS}/child-md-0").json()
        topology = next(c for c in cluster["status"]["conditions"] if c["type"] == "TopologyReconciled")
        seen.append((kcp["status"]["version"], md["spec"]["template"]["spec"]["version"],
                     md["status"]["updatedReplicas"], topology.get("reason"), health.check(cluster).health))
        sim.tick()
        clock.advance(30)
    assert seen == [
        ("v1.30.6", "v1.30.6", 2, "ReconcileSucceeded", Health.PROGRESSING),  # generation not observed yet
        ("v1.30.6", "v1.30.6", 2, "ControlPlaneUpgradePending", Health.PROGRESSING),
        ("v1.31.2", "v1.31.2", 0, "MachineDeploymentsUpgradePending", Health.PROGRESSING),
        ("v1.31.2", "v1.31.2", 2, "ReconcileSucceeded", Health.HEALTHY),
        ("v1.31.2", "v1.31.2", 2, "ReconcileSucceeded", Health.HEALTHY),
    ]


def test_deletion_waits_for_workers_control_plane_and_child_before_the_finalizer_goes(sim, mgmt, clock):
    mgmt.post(CLUSTERS, topology_cluster("child"))
    settle(sim, clock)
    mgmt.delete(f"{CLUSTERS}/child")
    seen = []
    for _ in range(5):
        seen.append((mgmt.get(f"{CLUSTERS}/child").status_code, mgmt.get(f"{MDS}/child-md-0").status_code,
                     mgmt.get(f"{KCPS}/child-control-plane").status_code, "child" in sim.server.clusters,
                     mgmt.get("/api/v1/namespaces/fleet/secrets/child-kubeconfig").status_code))
        sim.tick()
    assert seen == [(200, 200, 200, True, 200), (200, 404, 200, True, 200), (200, 404, 404, True, 200),
                    (200, 404, 404, False, 200), (404, 404, 404, False, 404)]


def test_a_k0smotron_class_gets_a_hosted_control_plane(sim, mgmt, clock):
    mgmt.post(CLUSTERS, topology_cluster("hosted", klass="k0smotron-hosted"))
    settle(sim, clock)
    cp = mgmt.get(f"{K0SMOTRON}/hosted-control-plane").json()
    assert (cp["status"]["externalManagedControlPlane"], cp["status"]["ready"], health.check(cp).health,
            mgmt.get(f"{KCPS}/hosted-control-plane").status_code) == (True, True, Health.HEALTHY, 404)
