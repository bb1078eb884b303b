"""Simulated controllers and Cluster API, driven by a fake clock and explicit ticks."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml
from kubernetes import client

from reconciler.sim import capi, testing

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


@pytest.fixture
def mgmt(slow: testing.RunningSim, make_api: Any) -> Any:
    return make_api(slow.server.url("mgmt"), slow.cluster("mgmt").token)


def test_deployment_is_not_ready_before_the_delay(slow, mgmt, clock):
    mgmt.post(DEPLOYMENTS, DEPLOYMENT)
    slow.tick()
    clock.advance(29)
    slow.tick()
    assert "readyReplicas" not in mgmt.get(f"{DEPLOYMENTS}/web").json().get("status", {})


def test_deployment_is_ready_after_the_delay(slow, mgmt, clock):
    mgmt.post(DEPLOYMENTS, DEPLOYMENT)
    slow.tick()
    clock.advance(30)
    slow.tick()
    status = mgmt.get(f"{DEPLOYMENTS}/web").json()["status"]
    assert (status["readyReplicas"], status["observedGeneration"],
            [c["type"] for c in status["conditions"]]) == (3, 1, ["Available", "Progressing"])


def test_deployment_owns_a_replica_set_that_is_collected_with_it(slow, mgmt):
    mgmt.post(DEPLOYMENTS, DEPLOYMENT)
    slow.tick()
    owned = mgmt.get("/apis/apps/v1/namespaces/default/replicasets").json()["items"]
    mgmt.delete(f"{DEPLOYMENTS}/web")
    left = mgmt.get("/apis/apps/v1/namespaces/default/replicasets").json()["items"]
    assert (len(owned), owned[0]["metadata"]["ownerReferences"][0]["name"], left) == (1, "web", [])


def test_job_completes(slow, mgmt, clock):
    mgmt.post("/apis/batch/v1/namespaces/default/jobs", {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}})
    slow.tick()
    clock.advance(30)
    slow.tick()
    conditions = mgmt.get("/apis/batch/v1/namespaces/default/jobs/j").json()["status"]["conditions"]
    assert {c["type"] for c in conditions} >= {"Complete"}


def test_pvc_becomes_bound(slow, mgmt, clock):
    mgmt.post("/api/v1/namespaces/default/persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}})
    slow.tick()
    clock.advance(30)
    slow.tick()
    status = mgmt.get("/api/v1/namespaces/default/persistentvolumeclaims/data").json()["status"]
    assert (status["phase"], status["capacity"]["storage"]) == ("Bound", "2Gi")


def test_namespaces_are_active(mgmt):
    mgmt.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    assert mgmt.get("/api/v1/namespaces/team").json()["status"]["phase"] == "Active"


def test_status_is_written_once_per_generation(slow, mgmt, clock):
    mgmt.post(DEPLOYMENTS, DEPLOYMENT)
    slow.tick()
    clock.advance(30)
    slow.tick()
    version = mgmt.get(f"{DEPLOYMENTS}/web").json()["metadata"]["resourceVersion"]
    slow.tick()
    assert mgmt.get(f"{DEPLOYMENTS}/web").json()["metadata"]["resourceVersion"] == version


def provision(slow: testing.RunningSim, mgmt: Any, clock: testing.FakeClock) -> dict[str, Any]:
    capi.install_crd(slow.cluster("mgmt"))
    mgmt.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "capi"}})
    mgmt.post("/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/clusters", {
        "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "child"},
        "spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["10.0.0.0/16"]}}}})
    slow.tick()
    clock.advance(60)
    slow.tick()
    return mgmt.get("/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/clusters/child").json()


def test_capi_cluster_waits_for_its_delay(slow, mgmt, clock):
    capi.install_crd(slow.cluster("mgmt"))
    mgmt.post("/apis/cluster.x-k8s.io/v1beta1/namespaces/default/clusters", {
        "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "later"}})
    clock.advance(59)
    slow.tick()
    assert ("later" in slow.server.clusters, mgmt.get("/api/v1/namespaces/default/secrets").json()["items"]) == (
        False, [])


def test_capi_cluster_becomes_ready_and_provisioned(slow, mgmt, clock):
    status = provision(slow, mgmt, clock)["status"]
    ready = [c for c in status["conditions"] if c["type"] == "Ready"]
    assert (status["phase"], status["infrastructureReady"], status["controlPlaneReady"], ready[0]["status"]) == (
        "Provisioned", True, True, "True")


def test_capi_kubeconfig_secret_reaches_the_child_cluster(slow, mgmt, clock, tmp_path):
    provision(slow, mgmt, clock)
    secret = mgmt.get("/api/v1/namespaces/capi/secrets/child-kubeconfig").json()
    kubeconfig = tmp_path / "child.yaml"
    kubeconfig.write_bytes(base64.b64decode(secret["data"]["value"]))
    from kubernetes import config

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    namespaces = [n.metadata.name for n in api.list_namespace().items]
    assert ("default" in namespaces, yaml.safe_load(kubeconfig.read_text())["current-context"]) == (True, "child")


def test_deleting_capi_cluster_removes_the_child(slow, mgmt, clock):
    provision(slow, mgmt, clock)
    mgmt.delete("/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/clusters/child")
    slow.tick()
    assert "child" not in slow.server.clusters


def test_namespaces_carry_their_name_label(mgmt):
    mgmt.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    labels = mgmt.get("/api/v1/namespaces/team").json()["metadata"]["labels"]
    assert labels == {"kubernetes.io/metadata.name": "team"}
