"""``stackfleet sim`` as its own process: writes a kubeconfig, serves until SIGTERM."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from click.testing import CliRunner
from kubernetes import client, config

from reconciler.cli import sim as sim_cli


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


def test_fleet_variant_serves_contexts_and_capi_on_the_management_cluster(tmp_path, fleet_dir):
    kubeconfig = tmp_path / "kubeconfig"
    with sim_process("--fleet", str(fleet_dir), "--provision-after", "0", kubeconfig=kubeconfig):
        document = yaml.safe_load(kubeconfig.read_text())
        contexts = {c["name"] for c in document["contexts"]}
        mgmt = client.ApiextensionsV1Api(config.new_client_from_config(config_file=str(kubeconfig),
                                                                        context="mgmt"))
        crds = [c.metadata.name for c in mgmt.list_custom_resource_definition().items]
    assert ("mgmt" in contexts, crds) == (True, ["clusters.cluster.x-k8s.io"])


def test_needs_exactly_one_source(tmp_path):
    done = CliRunner().invoke(sim_cli.command, ["--kubeconfig", str(tmp_path / "k")])
    assert (done.exit_code, "exactly one of" in done.output) == (2, True)
