"""``stackfleet sim`` as its own process: writes a kubeconfig, serves until SIGTERM."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from kubernetes import client, config


@contextmanager
def sim_process(*args: str, kubeconfig: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(["stackfleet", "sim", "--kubeconfig", str(kubeconfig), *args],
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "serving" in line, line
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_clusters_variant_writes_one_context_per_cluster(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    with sim_process("--clusters", "3", kubeconfig=kubeconfig) as process:
        contexts = [c["name"] for c in yaml.safe_load(kubeconfig.read_text())["contexts"]]
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig), context="cluster-2"))
        namespaces = {n.metadata.name for n in api.list_namespace().items}
    assert (contexts, "kube-system" in namespaces, process.returncode) == (
        ["cluster-1", "cluster-2", "cluster-3"], True, 0)


def test_fleet_variant_serves_contexts_and_capi_on_the_management_cluster(tmp_path, fleet_dir):
    kubeconfig = tmp_path / "kubeconfig"
    with sim_process("--fleet", str(fleet_dir), "--provision-after", "0", kubeconfig=kubeconfig):
        document = yaml.safe_load(kubeconfig.read_text())
        contexts = {c["name"] for c in document["contexts"]}
        mgmt = client.ApiextensionsV1Api(config.new_client_from_config(config_file=str(kubeconfig),
                                                                        context="mgmt"))
        crds = [c.metadata.name for c in mgmt.list_custom_resource_definition().items]
    assert ("mgmt" in contexts, crds) == (True, ["clusters.cluster.x-k8s.io"])


def test_kubectl_works_against_a_tls_sim(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    with sim_process("--clusters", "1", "--tls", kubeconfig=kubeconfig):
        done = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"),
                               "get", "namespaces", "-o", "name"], capture_output=True, text=True, timeout=30,
                              check=False)
    assert "namespace/default" in done.stdout.split()


def test_needs_exactly_one_source(tmp_path):
    done = subprocess.run(["stackfleet", "sim", "--kubeconfig", str(tmp_path / "k")], capture_output=True,
                          text=True, timeout=30, check=False)
    assert (done.returncode, "exactly one of" in done.stderr) == (1, True)


def test_sigterm_stops_it_cleanly(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    with sim_process("--clusters", "1", kubeconfig=kubeconfig) as process:
        pass
    assert (process.returncode, "sim stopped" in (process.stderr.read() if process.stderr else "")) == (0, True)
