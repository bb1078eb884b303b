"""Serving certificates from the cryptography package and from the openssl command both work for TLS."""

from __future__ import annotations

import pytest
from kubernetes import client, config

from reconciler.sim import certs
from reconciler.sim.server import SimServer


@pytest.mark.parametrize("make", [certs.with_cryptography, certs.with_openssl], ids=["cryptography", "openssl"])
def test_python_client_trusts_the_generated_ca(tmp_path, make):
    with SimServer(tls=True, certificates=make) as server:
        server.add_cluster("c0")
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
        names = {n.metadata.name for n in api.list_namespace().items}
    assert "default" in names
