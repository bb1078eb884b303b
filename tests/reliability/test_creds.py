"""RELIABILITY.md, area creds: kubeconfigs that would run a plugin are refused unless the operator allows it."""

from __future__ import annotations

import base64

import pytest
import yaml
from kubernetes import client as kube

from reconciler.core import rollout
from reconciler.errors import ConfigError

AREA = "creds"


def exec_kubeconfig(server: str, marker: str) -> str:
    """A kubeconfig whose user runs ``sh -c 'touch <marker>'`` to get a token."""
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "sh",
                     "args": ["-c", f"touch {marker}"], "interactiveMode": "Never"}}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "x",
                           "clusters": [{"name": "x", "cluster": {"server": server}}],
                           "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
                           "users": [{"name": "x", "user": user}]})


def server_of(rig, name: str) -> str:
    document = yaml.safe_load(rig.running.kubeconfig.read_text())
    return next(c["cluster"]["server"] for c in document["clusters"] if c["name"] == name)


def refused_cluster(rig, name: str, *, plugin: str) -> None:
    """Plan and apply: ``name`` is held as unreachable naming the plugin, the other clusters succeed."""
    report = rig.apply()
    results = {o.cluster: o.result for o in report.outcomes}
    assert results.pop(name) is rollout.Result.UNREACHABLE
    assert set(results.values()) == {rollout.Result.UNCHANGED}
    with pytest.raises(ConfigError) as refused:
        rig.session().connections.client(name)
    rig.error(refused.value, names=[plugin, "allow-listed", f"cluster={name}"])


def test_an_exec_plugin_in_a_kubeconfig_secret_is_refused_and_never_run(applied, tmp_path, captured_logs):
    marker = tmp_path / "plugin-ran"
    core = kube.CoreV1Api(applied.running.api_client("c0"))
    core.create_namespace({"metadata": {"name": "capi"}})
    text = exec_kubeconfig(server_of(applied, "c2"), str(marker))
    core.create_namespaced_secret("capi", {"metadata": {"name": "c2-kubeconfig"},
                                           "data": {"value": base64.b64encode(text.encode()).decode()}})
    applied.settle()
    applied.write("clusters/c2.yaml", applied.fleet.joinpath("clusters/c2.yaml").read_text().replace(
        "{context: c2}", "{kubeconfigSecret: {cluster: c0, namespace: capi, name: c2-kubeconfig}}"))
    refused_cluster(applied, "c2", plugin="exec plugin 'sh'")
    assert not marker.exists()
    applied.check(area=AREA, logs_text=captured_logs.text())


def test_an_auth_provider_in_the_operator_kubeconfig_is_refused(applied, captured_logs):
    document = yaml.safe_load(applied.running.kubeconfig.read_text())
    context = next(c["context"] for c in document["contexts"] if c["name"] == "c1")
    user = next(u for u in document["users"] if u["name"] == context["user"])
    user["user"] = {"auth-provider": {"name": "gcp", "config": {"cmd-path": "/bin/false"}}}
    applied.running.kubeconfig.write_text(yaml.safe_dump(document))
    refused_cluster(applied, "c1", plugin="auth-provider 'gcp'")
    applied.check(area=AREA, logs_text=captured_logs.text())
