"""A simulated Cluster API: a ``Cluster`` (cluster.x-k8s.io/v1beta1) on a sim cluster provisions a child cluster.

When it first sees a Cluster the provisioner adds Cluster API's finalizer (``cluster.cluster.x-k8s.io``)
and installs the provider CRDs it plays (MachineDeployment, KubeadmControlPlane, K0smotronControlPlane)
on that management cluster, as ``clusterctl init`` would. After ``provision_after`` seconds it adds a new
sim cluster named after the Cluster, writes the ``<name>-kubeconfig`` Secret (key ``value``) into the
Cluster's namespace the way Cluster API and k0smotron do, and reports the Cluster's status: phase
``Provisioned``, ``observedGeneration``, the v1beta1 conditions (Ready, ControlPlaneReady,
InfrastructureReady, TopologyReconciled) in ``status.conditions`` and the v1beta2 ones (Available,
ControlPlaneAvailable, InfrastructureReady, WorkersAvailable, RollingOut, ScalingUp, ScalingDown,
Remediating, TopologyReconciled) in ``status.v1beta2.conditions``, as Cluster API 1.9 and 1.10 write
them on v1beta1 objects. A topology's control plane and workers, and version rollouts, are
``sim.capitopology``'s.

Deleting the Cluster sets its deletionTimestamp (the finalizer holds it); the provisioner then
deletes its MachineDeployments, then its control plane, one kind per pass, then the child cluster and
the kubeconfig Secret, and finally removes the finalizer so the Cluster goes away (Cluster API's
cluster controller orders deletion the same way).
"""

from __future__ import annotations

import base64
import calendar
import time
from typing import TYPE_CHECKING, Any

from reconciler.core.objects import Obj
from reconciler.sim import capitopology, kubeconfigs, metas, statuses
from reconciler.sim.clusters import Cluster, Write

if TYPE_CHECKING:
    from reconciler.sim.server import SimServer

GROUP = "cluster.x-k8s.io"
MANAGER = "capi-controller-manager"
FINALIZER = "cluster.cluster.x-k8s.io"
PROVIDER_KINDS = ((GROUP, "MachineDeployment", "machinedeployments"),
                  (f"controlplane.{GROUP}", "KubeadmControlPlane", "kubeadmcontrolplanes"),
                  (f"controlplane.{GROUP}", "K0smotronControlPlane", "k0smotroncontrolplanes"))


def crd_of(group: str, kind: str, plural: str) -> Obj:
    """A CRD serving ``kind`` at v1beta1 with a status subresource and any fields (trimmed like the fleet's)."""
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(),
                               "categories": ["cluster-api"]},
                     "versions": [{"name": "v1beta1", "served": True, "storage": True,
                                   "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}]}}


CRD: Obj = crd_of(GROUP, "Cluster", "clusters")
CRD["spec"]["names"]["shortNames"] = ["cl"]


def install_crd(cluster: Cluster, crd: Obj = CRD) -> None:
    """Serve ``crd`` (by default cluster.x-k8s.io Clusters) on ``cluster`` (a management cluster)."""
    crds = cluster.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert crds is not None
    if cluster.find(crds, "", crd["metadata"]["name"]) is None:
        cluster.create(crds, "", crd, Write(manager=MANAGER, validation="Ignore"))


def kubeconfig_secret(name: str, namespace: str, kubeconfig: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": "cluster.x-k8s.io/secret",
            "metadata": {"name": f"{name}-kubeconfig", "namespace": namespace,
                         "labels": {f"{GROUP}/cluster-name": name}},
            "data": {"value": base64.b64encode(kubeconfig.encode()).decode()}}


def cluster_status(obj: Obj, progress: capitopology.Progress, now: str) -> Obj:
    """A provisioned Cluster's status with both condition sets; transition times kept while a condition holds."""
    rolling = bool(progress.pending)
    topology = {"type": "TopologyReconciled", "status": "False" if rolling else "True",
                "reason": progress.pending or "ReconcileSucceeded", "message": progress.message}
    old = [{"type": t, "status": "True"} for t in ("Ready", "ControlPlaneReady", "InfrastructureReady")]
    new = [{"type": t, "status": "True"} for t in ("Available", "ControlPlaneAvailable", "InfrastructureReady",
                                                 "WorkersAvailable")]
    new += [{"type": t, "status": "True" if t == "RollingOut" and rolling else "False"}
            for t in ("RollingOut", "ScalingUp", "ScalingDown", "Remediating")]
    if (obj.get("spec") or {}).get("topology"):
        old.append(topology)
        new.append(topology)
    generation = obj["metadata"].get("generation", 1)
    before = obj.get("status") or {}
    return {"phase": "Provisioned", "infrastructureReady": True, "controlPlaneReady": True,
            "observedGeneration": generation,
            "conditions": _stamped(old, before.get("conditions"), now=now, generation=None),
            "v1beta2": {"conditions": _stamped(new, (before.get("v1beta2") or {}).get("conditions"), now=now,
                                               generation=generation)}}


def _stamped(found: list[dict[str, Any]], previous: Any, *, now: str, generation: int | None) -> list[dict[str, Any]]:
    """Conditions with ``lastTransitionTime`` (kept from ``previous`` when the status did not change) and,
    for metav1.Condition-shaped v1beta2 conditions, ``observedGeneration``."""
    before = {c.get("type"): c for c in previous if isinstance(c, dict)} if isinstance(previous, list) else {}
    out = []
    for condition in found:
        prior = before.get(condition["type"]) or {}
        since = prior.get("lastTransitionTime") if prior.get("status") == condition["status"] else None
        stamped = {**condition, "lastTransitionTime": since or now}
        if generation is not None:
            stamped["observedGeneration"] = generation
        out.append({k: v for k, v in stamped.items() if v != ""})
    return out


class Provisioner:
    """Watches every sim cluster for CAPI Clusters: provisions, upgrades and deletes their children."""

    def __init__(self, server: SimServer, *, provision_after: float = 0.0, upgrade_after: float = 0.0) -> None:
        self.server, self.provision_after, self.upgrade_after = server, provision_after, upgrade_after
        self.children: dict[tuple[str, str, str], str] = {}
        self._seen: dict[tuple[str, str, int], float] = {}

    def tick(self) -> None:
        live: set[tuple[str, str, str]] = set()
        for cluster in list(self.server.clusters.values()):
            rt = cluster.registry.lookup(GROUP, "v1beta1", "clusters")
            found = cluster.objects(rt) if rt is not None else []
            if found:
                for group, kind, plural in PROVIDER_KINDS:
                    install_crd(cluster, crd_of(group, kind, plural))
            topology = capitopology.Topology(cluster, self.server.clock, self.upgrade_after, self._seen)
            for obj in found:
                key = (cluster.name, obj["metadata"]["namespace"], obj["metadata"]["name"])
                live.add(key)
                try:
                    self._reconcile(cluster, topology, key, obj)
                except statuses.ApiError:
                    continue  # deleted or changed meanwhile: the next pass sees the new state
        for key in set(self.children) - live:
            self._deprovision(key)

    def _reconcile(self, cluster: Cluster, topology: capitopology.Topology, key: tuple[str, str, str],
                   obj: Obj) -> None:
        rt = cluster.registry.lookup(GROUP, "v1beta1", "clusters")
        assert rt is not None
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            self._delete(cluster, topology, key, obj)
            return
        if FINALIZER not in (meta.get("finalizers") or []):
            obj = cluster.replace(rt, meta["namespace"], meta["name"], _with_finalizers(obj, [
                *(meta.get("finalizers") or []), FINALIZER]), Write(manager=MANAGER, validation="Ignore"))
        if self.server.clock() - _epoch(meta.get("creationTimestamp", "")) < self.provision_after:
            return
        child = self.children.get(key) or self._provision(key)
        _ensure_secret(cluster, kubeconfig_secret(key[2], key[1], kubeconfigs.dumps(
            [self.server.entry(child)], ca_pem=self.server.ca_pem)))
        progress = topology.reconcile(obj)
        status = cluster_status(obj, progress, metas.timestamp(self.server.clock()))
        if status != obj.get("status"):
            cluster.write_status(rt, obj, status, manager=MANAGER)

    def _delete(self, cluster: Cluster, topology: capitopology.Topology, key: tuple[str, str, str],
                obj: Obj) -> None:
        """One step of a Cluster's deletion: workers, control plane, the child and its Secret, the finalizer."""
        if topology.deleting(obj):
            return
        if key in self.children:
            self._deprovision(key)
            return
        secrets = cluster.registry.lookup("", "v1", "secrets")
        assert secrets is not None
        meta = obj["metadata"]
        if cluster.find(secrets, meta["namespace"], f"{meta['name']}-kubeconfig") is not None:
            cluster.delete(secrets, meta["namespace"], f"{meta['name']}-kubeconfig", {}, Write(manager=MANAGER))
        rt = cluster.registry.lookup(GROUP, "v1beta1", "clusters")
        assert rt is not None
        rest = [f for f in meta.get("finalizers") or [] if f != FINALIZER]
        cluster.replace(rt, meta["namespace"], meta["name"], _with_finalizers(obj, rest),
                        Write(manager=MANAGER, validation="Ignore"))

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


def _with_finalizers(obj: Obj, finalizers: list[str]) -> Obj:
    meta = {k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "finalizers")}
    return {**obj, "metadata": {**meta, "finalizers": finalizers}}


def _ensure_secret(cluster: Cluster, secret: Obj) -> None:
    rt = cluster.registry.lookup("", "v1", "secrets")
    assert rt is not None
    meta = secret["metadata"]
    if cluster.find(rt, meta["namespace"], meta["name"]) is None:
        cluster.create(rt, meta["namespace"], secret, Write(manager=MANAGER, validation="Ignore"))


def _epoch(stamp: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return 0.0
