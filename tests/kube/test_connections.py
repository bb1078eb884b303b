"""Clients per fleet cluster: kubeconfig contexts, kubeconfig Secrets, refused exec/auth-provider plugins, TLS."""

from __future__ import annotations

import base64

import pytest
import yaml

from reconciler.core.objects import ObjectKey
from reconciler.errors import ClusterUnreachable, ConfigError
from reconciler.kube.connections import ClientSettings, Connections, KubeconfigPending
from reconciler.sim import testing
from reconciler.spec.models import Connection, SecretRef

NAMESPACE = ObjectKey("", "Namespace", "", "default")


def secret(name: str, document: dict) -> dict:
    text = yaml.safe_dump(document)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "default"},
            "data": {"value": base64.b64encode(text.encode()).decode()}}


def with_exec(document: dict, command: str) -> dict:
    document["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command}}
    return document


def test_a_context_of_the_operators_kubeconfig(sim):
    connections = Connections({"c1": Connection(context="c1")}, kubeconfig_path=str(sim.kubeconfig))
    assert connections.client("c1").get(NAMESPACE) is not None


def test_a_kubeconfig_secret_read_from_another_cluster(sim):
    ref = SecretRef(cluster="c0", namespace="default", name="c1-kubeconfig")
    connections = Connections({"c0": Connection(context="c0"), "c1": Connection(kubeconfig_secret=ref)},
                              kubeconfig_path=str(sim.kubeconfig))
    with pytest.raises(KubeconfigPending):
        connections.client("c1")
    document = yaml.safe_load(sim.kubeconfig.read_text())
    document["current-context"] = "c1"
    connections.client("c0").apply(secret("c1-kubeconfig", document))
    assert connections.client("c1").get(NAMESPACE) is not None
    assert sim.faults("c1").total("get", "namespaces") == 1


def test_an_exec_plugin_from_a_secret_is_refused_unless_allow_listed(sim, kubeconfig_doc):
    ref = SecretRef(cluster="c0", namespace="default", name="evil")
    specs = {"c0": Connection(context="c0"), "c1": Connection(kubeconfig_secret=ref)}
    connections = Connections(specs, kubeconfig_path=str(sim.kubeconfig))
    connections.client("c0").apply(secret("evil", with_exec(kubeconfig_doc, "/usr/bin/touch")))
    with pytest.raises(ConfigError, match="exec plugin '/usr/bin/touch'"):
        connections.client("c1")
    same_name = Connections(specs, kubeconfig_path=str(sim.kubeconfig),
                            settings=ClientSettings(allowed_plugins=frozenset({"touch"})))
    with pytest.raises(ConfigError, match="exec plugin '/usr/bin/touch'"):
        same_name.client("c1")  # allowing the name does not allow any binary of that name
    allowed = Connections(specs, kubeconfig_path=str(sim.kubeconfig),
                          settings=ClientSettings(allowed_plugins=frozenset({"/usr/bin/touch"})))
    allowed.client("c1")  # built; the plugin would run on the first request


def test_an_auth_provider_in_the_operators_kubeconfig_is_refused(sim, kubeconfig_doc, tmp_path):
    kubeconfig_doc["users"][0]["user"] = {"auth-provider": {"name": "gcp"}}
    path = tmp_path / "provider.yaml"
    path.write_text(yaml.safe_dump(kubeconfig_doc))
    name = kubeconfig_doc["contexts"][0]["name"]
    with pytest.raises(ConfigError, match="auth-provider 'gcp'"):
        Connections({name: Connection(context=name)}, kubeconfig_path=str(path)).client(name)


def test_tls_is_verified_with_the_kubeconfigs_ca(tmp_path):
    with testing.running(clusters=["secure"], workdir=tmp_path, tls=True, controllers=False) as running:
        connections = Connections({"secure": Connection(context="secure")}, kubeconfig_path=str(running.kubeconfig))
        assert connections.client("secure").get(NAMESPACE) is not None
        document = yaml.safe_load(running.kubeconfig.read_text())
        del document["clusters"][0]["cluster"]["certificate-authority-data"]
        untrusted = tmp_path / "untrusted.yaml"
        untrusted.write_text(yaml.safe_dump(document))
        settings = ClientSettings(attempts=1)
        client = Connections({"secure": Connection(context="secure")}, kubeconfig_path=str(untrusted),
                             settings=settings).client("secure")
        with pytest.raises(ClusterUnreachable, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            client.get(NAMESPACE)
