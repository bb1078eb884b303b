"""A simulated Cluster API: a ``Cluster`` (cluster.x-k8s.io/v1beta1) on a sim cluster provisions a child cluster.

After ``provision_after`` seconds the provisioner adds a new sim cluster named after the Cluster,
writes the ``<name>-kubeconfig`` Secret (key ``value``) into the Cluster's namespace the way Cluster
API and k0smotron do, and marks the Cluster Provisioned and Ready. Deleting the Cluster removes the
child cluster.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from reconciler.core.objects import Obj
from reconciler.sim import kubeconfigs, metas, statuses
from reconciler.sim.clusters import Cluster, Write

if TYPE_CHECKING:
    from reconciler.sim.server import SimServer

GROUP = "cluster.x-k8s.io"
MANAGER = "capi-controller-manager"
CRD: Obj = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"clusters.{GROUP}"},
    "spec": {
        "group": GROUP,
        "names": {"kind": "Cluster", "listKind": "ClusterList", "plural": "clusters", "singular": "cluster",
                  "shortNames": ["cl"], "categories": ["cluster-api"]},
        "scope": "Namespaced",
        "versions": [{"name": "v1beta1", "served": True, "storage": True, "subresources": {"status": {}},
                      "schema": {"openAPIV3Schema": {"type": "object",
                                                     "x-kubernetes-preserve-unknown-fields": True}}}],
    },
}


def install_crd(cluster: Cluster) -> None:
    """Serve cluster.x-k8s.io Clusters on ``cluster`` (a management cluster)."""
    crds = cluster.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert crds is not None
    if cluster.find(crds, "", CRD["metadata"]["name"]) is None:
        cluster.create(crds, "", CRD, Write(manager=MANAGER, validation="Ignore"))


def kubeconfig_secret(name: str, namespace: str, kubeconfig: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": "cluster.x-k8s.io/secret",
            "metadata": {"name": f"{name}-kubeconfig", "namespace": namespace,
                         "labels": {f"{GROUP}/cluster-name": name}},
            "data": {"value": base64.b64encode(kubeconfig.encode()).decode()}}


def ready_status(obj: Obj, now: str) -> Obj:
    return {"phase": "Provisioned", "infrastructureReady": True, "controlPlaneReady": True,
            "observedGeneration": obj["metadata"].get("generation", 1),
            "conditions": [{"type": cond, "status": "True", "lastTransitionTime": now}
                           for cond in ("Ready", "ControlPlaneReady", "InfrastructureReady")]}


class Provisioner:
    """Watches every sim cluster for CAPI Clusters and provisions their children."""

    def __init__(self, server: SimServer, *, provision_after: float = 0.0) -> None:
        self.server, self.provision_after = server, provision_after
        self.children: dict[tuple[str, str, str], str] = {}

    def tick(self) -> None:
        live: set[tuple[str, str, str]] = set()
        for cluster in list(self.server.clusters.values()):
            rt = cluster.registry.lookup(GROUP, "v1beta1", "clusters")
            for obj in cluster.objects(rt) if rt is not None else ():
                key = (cluster.name, obj["metadata"]["namespace"], obj["metadata"]["name"])
                live.add(key)
                self._reconcile(cluster, key, obj)
        for key in set(self.children) - live:
            self._deprovision(key)

    def _reconcile(self, cluster: Cluster, key: tuple[str, str, str], obj: Obj) -> None:
        if (obj.get("status") or {}).get("phase") == "Provisioned" or obj["metadata"].get("deletionTimestamp"):
            return
        created = obj["metadata"].get("creationTimestamp", "")
        if self.server.clock() - _epoch(created) < self.provision_after:
            return
        child = self.children.get(key) or self._provision(key)
        secret = kubeconfig_secret(key[2], key[1], kubeconfigs.dumps([self.server.entry(child)],
                                                                     ca_pem=self.server.ca_pem))
        try:
            _ensure_secret(cluster, secret)
            rt = cluster.registry.lookup(GROUP, "v1beta1", "clusters")
            assert rt is not None
            cluster.write_status(rt, obj, ready_status(obj, metas.timestamp(self.server.clock())), manager=MANAGER)
        except statuses.ApiError:
            return

    def _provision(self, key: tuple[str, str, str]) -> str:
        name = key[2]  # an existing sim cluster of that name is adopted (``stackfleet sim --fleet`` makes them)
        if name not in self.server.clusters:
            self.server.add_cluster(name)
        self.children[key] = name
        return name

    def _deprovision(self, key: tuple[str, str, str]) -> None:
        name = self.children.pop(key)
        if name in self.server.clusters:
            self.server.remove_cluster(name)


def _ensure_secret(cluster: Cluster, secret: Obj) -> None:
    rt = cluster.registry.lookup("", "v1", "secrets")
    assert rt is not None
    meta = secret["metadata"]
    if cluster.find(rt, meta["namespace"], meta["name"]) is None:
        cluster.create(rt, meta["namespace"], secret, Write(manager=MANAGER, validation="Ignore"))


def _epoch(stamp: str) -> float:
    import calendar
    import time

    try:
        return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return 0.0
