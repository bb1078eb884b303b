"""Sim clusters for a fleet repo: one per Cluster reached by context, CAPI on the clusters holding kubeconfig Secrets.

A Cluster with ``connection: {context: NAME}`` gets a sim cluster named NAME (a context in the
written kubeconfig). A Cluster with ``connection: {kubeconfigSecret: {cluster, namespace, name}}`` is
not started up front: once the fleet has applied the Cluster API CRD and a ``Cluster`` of
cluster.x-k8s.io to the management cluster (the reference fleet's management and cluster-base
stacks do), the simulated provisioner starts the child and writes the Secret. With
``provision=True`` the children and their Secrets are made at once instead, for fleets without a
cluster layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.sim import capi, kubeconfigs
from reconciler.sim.clusters import Write
from reconciler.sim.server import SimServer


@dataclass(frozen=True)
class Layout:
    """Which sim clusters a fleet needs: contexts, and (child, management, namespace, secret name)."""

    contexts: list[str] = field(default_factory=list)
    children: list[tuple[str, str, str, str]] = field(default_factory=list)


def layout(clusters: Mapping[str, Any]) -> Layout:
    """The layout of a loaded fleet repo's ``clusters`` (name -> Located[Cluster])."""
    result = Layout()
    for name, located in sorted(clusters.items()):
        connection = located.model.spec.connection
        if connection.context is not None:
            result.contexts.append(connection.context)
        else:
            ref = connection.kubeconfig_secret
            result.children.append((name, ref.cluster, ref.namespace, ref.name))
    return result


def start(server: SimServer, plan: Layout, *, provision: bool = False) -> None:
    """Add the fleet's clusters to ``server`` (children only with ``provision``)."""
    for context in plan.contexts:
        if context not in server.clusters:
            server.add_cluster(context)
    for child, management, namespace, secret in plan.children:
        if management not in server.clusters:
            server.add_cluster(management)
        if provision:
            _provision(server, child=child, management=management, namespace=namespace, secret=secret)


def _provision(server: SimServer, *, child: str, management: str, namespace: str, secret: str) -> None:
    if child not in server.clusters:
        server.add_cluster(child)
    mgmt = server.clusters[management]
    namespaces, secrets = (mgmt.registry.lookup("", "v1", plural) for plural in ("namespaces", "secrets"))
    assert namespaces is not None and secrets is not None
    how = Write(manager=capi.MANAGER, validation="Ignore")
    if mgmt.find(namespaces, "", namespace) is None:
        mgmt.create(namespaces, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, how)
    body = capi.kubeconfig_secret(child, namespace, kubeconfigs.dumps([server.entry(child)], ca_pem=server.ca_pem))
    body["metadata"]["name"] = secret
    if mgmt.find(secrets, namespace, secret) is None:
        mgmt.create(secrets, namespace, body, how)
