"""The ingress chart's webhook, LoadBalancer Service and Deployment on a sim cluster that behaves like a
real one: webhook defaults, a CA injected by another manager (cainjector), an address from the simulated
load-balancer provider, the Deployment controller's revision annotation. None of that is drift or a
change; edits made behind our back are reported exactly, naming who made them."""

from __future__ import annotations

import base64

import pytest

from reconciler.sim.clusters import Write

CLUSTER = "ingress-1"
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBexample\n-----END CERTIFICATE-----\n").decode()


@pytest.fixture
def applied(bench_factory, charted):
    bench = bench_factory(charted(CLUSTER, "ingress-webhook"), [CLUSTER])
    [outcome] = bench.apply().outcomes
    assert outcome.result.value == "succeeded"
    bench.running.tick()
    return bench


def live(bench, group: str, plural: str, name: str, namespace: str = "") -> dict:
    cluster = bench.running.cluster(CLUSTER)
    return cluster.get(cluster.registry.lookup(group, "v1", plural), namespace, name)


def edit(bench, group: str, plural: str, name: str, change, *, manager: str, namespace: str = "default") -> None:
    cluster = bench.running.cluster(CLUSTER)
    cluster.patch(cluster.registry.lookup(group, "v1", plural), namespace, name, change, Write(manager=manager))


def test_the_injected_ca_and_the_servers_defaults_are_neither_changes_nor_drift(applied) -> None:
    hook = live(applied, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "web-admission")
    owners = {e["manager"]: e["operation"] for e in hook["metadata"]["managedFields"]}
    [webhook] = hook["webhooks"]
    assert (webhook["clientConfig"]["caBundle"], webhook["failurePolicy"], webhook["clientConfig"]["service"]["port"],
            owners) == (CA, "Fail", 443, {"stackfleet": "Apply", "cainjector": "Update"})
    assert (applied.plan().plan.has_changes, applied.drift().entries) == (False, ())


def test_the_load_balancer_gets_an_address_and_the_deployment_a_revision(applied) -> None:
    service = live(applied, "", "services", "web-controller", "default")
    deployment = live(applied, "apps", "deployments", "web-controller", "default")
    assert (service["status"]["loadBalancer"]["ingress"][0]["ip"].startswith("198.51.100."),
            deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) == (True, "1")


def test_without_a_load_balancer_provider_the_service_never_gets_healthy(bench_factory, charted) -> None:
    files = charted(CLUSTER, "ingress-webhook", bundle=", healthTimeout: 1s")
    bench = bench_factory(files, [CLUSTER])
    bench.running.controllers.load_balancers = False
    [outcome] = bench.apply().outcomes
    assert (outcome.result.value, "waiting for a load balancer" in outcome.unit.error) == ("failed", True)


def _image(obj: dict) -> dict:
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.dev/ingress/controller:evil"
    return obj


def _label(obj: dict) -> dict:
    obj["metadata"].setdefault("labels", {})["team"] = "edge"
    return obj


def _failure_policy(obj: dict) -> dict:
    obj["webhooks"][0]["failurePolicy"] = "Ignore"
    obj["webhooks"][0]["sideEffects"] = "Some"
    return obj


def _replicas(obj: dict) -> dict:
    obj["spec"]["replicas"] = 5
    return obj


def test_edits_behind_our_back_are_reported_field_by_field_with_their_manager(applied) -> None:
    edit(applied, "apps", "deployments", "web-controller", _image, manager="kubectl-edit")
    edit(applied, "apps", "deployments", "web-controller", _label, manager="kubectl-label")
    cluster = applied.running.cluster(CLUSTER)
    deployments = cluster.registry.lookup("apps", "v1", "deployments")
    cluster.patch(deployments, "default", "web-controller", _replicas,
                  Write(manager="kubectl", subresource="scale"))
    edit(applied, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "web-admission",
         _failure_policy, manager="kubectl-patch", namespace="")
    services = cluster.registry.lookup("", "v1", "services")
    cluster.delete(services, "default", "web-admission", {}, Write(manager="kubectl"))
    applied.running.tick()
    found = {(e.key.kind, e.key.name, e.kind.value): sorted((f.path, f.manager.name) for f in e.fields)
             for e in applied.drift().entries}
    assert found == {
        ("Deployment", "web-controller", "modified"): [
            ("/spec/replicas", "kubectl"),
            ("/spec/template/spec/containers/0/image", "kubectl-edit"),
        ],
        ("ValidatingWebhookConfiguration", "web-admission", "modified"): [
            ("/webhooks/0/sideEffects", "kubectl-patch"),
        ],
        ("Service", "web-admission", "missing"): [],
    }
