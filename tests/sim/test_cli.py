"""``stackfleet sim`` as its own process: writes a kubeconfig, serves until SIGTERM."""

from __future__ import annotations

import base64
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from click.testing import CliRunner
from kubernetes import client, config, dynamic

from reconciler.cli import sim as sim_cli


@contextmanager
def sim_process(*args: str, kubeconfig: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(["stackfleet", "sim", "--kubeconfig", str(kubeconfig), "--lifetime", "120", *args],
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "serving" in line, line
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def kubectl_namespaces(kubeconfig: Path, *, context: str) -> list[str]:
    done = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--context", context, "--cache-dir",
                           str(kubeconfig.parent / "cache"), "get", "namespaces", "-o", "name"],
                          capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.split()


def test_clusters_variant_serves_python_client_and_kubectl_over_tls(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    with sim_process("--clusters", "3", "--tls", kubeconfig=kubeconfig) as process:
        contexts = [c["name"] for c in yaml.safe_load(kubeconfig.read_text())["contexts"]]
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig), context="cluster-2"))
        namespaces = {n.metadata.name for n in api.list_namespace().items}
        from_kubectl = kubectl_namespaces(kubeconfig, context="cluster-3")
    stopped = "sim stopped" in (process.stderr.read() if process.stderr else "")
    assert (contexts, "kube-system" in namespaces, "namespace/default" in from_kubectl, process.returncode,
            stopped) == (["cluster-1", "cluster-2", "cluster-3"], True, True, 0, True)


def wait_for_secret(api: client.CoreV1Api, namespace: str, name: str) -> client.V1Secret:
    """Poll until the simulated Cluster API has written the Secret (bounded; fails if it never comes)."""
    for _ in range(200):
        found = [s for s in api.list_namespaced_secret(namespace).items if s.metadata.name == name]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"secret {namespace}/{name} never appeared")


def test_fleet_variant_provisions_children_when_their_capi_cluster_is_applied(tmp_path, fleet_dir):
    kubeconfig = tmp_path / "kubeconfig"
    crd = yaml.safe_load((fleet_dir / "stacks/management/1.0.0/crds/clusters.cluster.x-k8s.io.yaml").read_text())
    with sim_process("--fleet", str(fleet_dir), "--provision-after", "0", kubeconfig=kubeconfig):
        contexts = {c["name"] for c in yaml.safe_load(kubeconfig.read_text())["contexts"]}
        mgmt = config.new_client_from_config(config_file=str(kubeconfig), context="mgmt")
        dyn = dynamic.DynamicClient(mgmt)
        dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition").create(body=crd)
        dyn.resources.get(api_version="v1", kind="Namespace").create(
            body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fleet-clusters"}})
        dyn.resources.invalidate_cache()
        dyn.resources.get(api_version="cluster.x-k8s.io/v1beta1", kind="Cluster").create(namespace="fleet-clusters", body={
            "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "prod-eu-1"}})
        secret = wait_for_secret(client.CoreV1Api(mgmt), "fleet-clusters", "prod-eu-1-kubeconfig")
        child_config = tmp_path / "child"
        child_config.write_bytes(base64.b64decode(secret.data["value"]))
        child = client.CoreV1Api(config.new_client_from_config(config_file=str(child_config)))
        child_namespaces = {n.metadata.name for n in child.list_namespace().items}
        later = wait_for_contexts(kubeconfig, {"mgmt", "prod-eu-1"})
        via_context = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig), context="prod-eu-1"))
        via_context_namespaces = {n.metadata.name for n in via_context.list_namespace().items}
    assert (contexts, "default" in child_namespaces) == ({"mgmt"}, True)
    assert (later, "default" in via_context_namespaces) == ({"mgmt", "prod-eu-1"}, True)


def wait_for_contexts(kubeconfig: Path, wanted: set[str], timeout: float = 10.0) -> set[str]:
    """The kubeconfig's contexts once they are ``wanted`` (the sim adds provisioned children), or at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        contexts = {c["name"] for c in yaml.safe_load(kubeconfig.read_text())["contexts"]}
        if contexts == wanted or time.monotonic() > deadline:
            return contexts
        time.sleep(0.1)


def test_needs_exactly_one_source(tmp_path):
    done = CliRunner().invoke(sim_cli.command, ["--kubeconfig", str(tmp_path / "k")])
    assert (done.exit_code, "exactly one of" in done.output) == (2, True)


def test_lifetime_stops_it_by_itself(tmp_path):
    done = subprocess.run(["stackfleet", "sim", "--clusters", "1", "--kubeconfig", str(tmp_path / "k"),
                           "--lifetime", "0.1"], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, "sim stopped" in done.stderr) == (0, True)


def _wait_ready(apps: client.AppsV1Api, name: str) -> None:
    for _ in range(400):
        status = apps.read_namespaced_deployment(name, "default").status
        if status is not None and status.ready_replicas:
            return
        time.sleep(0.05)
    raise AssertionError(f"deployment {name} never became ready")


def load_balancer_address(*flags: str, kubeconfig: Path) -> list[object]:
    """The ingress of a LoadBalancer Service once the controllers have been past it (a Deployment made
    after it is ready: the same pass looked at the Service)."""
    with sim_process("--clusters", "1", "--no-tls", "--ready-after", "0", *flags, kubeconfig=kubeconfig):
        api_client = config.new_client_from_config(config_file=str(kubeconfig), context="cluster-1")
        core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        core.create_namespaced_service("default", {"metadata": {"name": "edge"}, "spec": {
            "type": "LoadBalancer", "selector": {"app": "edge"}, "ports": [{"port": 80}]}})
        apps.create_namespaced_deployment("default", {"metadata": {"name": "after"}, "spec": {
            "selector": {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "a"}},
                                                                    "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
        _wait_ready(apps, "after")
        status = core.read_namespaced_service("edge", "default").status
        balancer = status.load_balancer if status is not None else None
        return list(balancer.ingress or []) if balancer is not None else []


def test_load_balancers_get_an_address_unless_switched_off(tmp_path):
    given = load_balancer_address(kubeconfig=tmp_path / "on")
    withheld = load_balancer_address("--no-load-balancers", kubeconfig=tmp_path / "off")
    assert (len(given), given[0].ip.startswith("198.51.100."), withheld) == (1, True, [])
