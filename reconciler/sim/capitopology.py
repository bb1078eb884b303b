"""The simulated Cluster API topology controller: a Cluster's control plane and MachineDeployments, and version rollouts.

For a Cluster with ``spec.topology`` (a ClusterClass-based cluster) this creates, on the management
cluster, the control plane object (a KubeadmControlPlane, or a k0smotron-style hosted
K0smotronControlPlane when the class name says ``k0smotron``) and one MachineDeployment per
``topology.workers.machineDeployments`` entry, labelled ``cluster.x-k8s.io/cluster-name`` as Cluster API
labels what a topology owns. A new ``topology.version`` rolls out the way the topology controller
sequences it upstream: the control plane first (its ``spec.version`` changes, its machines are
replaced, then ``status.version`` reports the new version), and only once the control plane reports
the new version are the MachineDeployments' templates moved to it and their machines replaced. Each
phase takes ``upgrade_after`` seconds of the server's clock (at least one controller pass).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.objects import Obj
from reconciler.sim import statuses
from reconciler.sim.clusters import Cluster, Write

GROUP = "cluster.x-k8s.io"
CP_GROUP = f"controlplane.{GROUP}"
CLUSTER_NAME = f"{GROUP}/cluster-name"
MANAGER = "capi-topology-controller"


@dataclass(frozen=True)
class Progress:
    """Where a topology Cluster's rollout is, for the Cluster's conditions."""

    pending: str = ""
    """A TopologyReconciled reason while the topology has not caught up (``ControlPlaneUpgradePending``, ...)."""
    message: str = ""
    hosted: bool = False


@dataclass
class Topology:
    """Reconciles the topology of the Clusters of one management cluster."""

    cluster: Cluster
    clock: Callable[[], float]
    upgrade_after: float = 0.0
    seen: dict[tuple[str, str, int], float] = field(default_factory=dict)

    def reconcile(self, capi_cluster: Obj) -> Progress:
        topology = (capi_cluster.get("spec") or {}).get("topology") or {}
        if not topology:
            return Progress()
        meta = capi_cluster["metadata"]
        wanted = str(topology.get("version") or "")
        hosted = "k0smotron" in str(topology.get("class") or "")
        cp = self._control_plane(meta, topology, wanted, hosted=hosted)
        if not self._rolled(cp, version=wanted):
            return Progress("ControlPlaneUpgradePending", f"control plane {cp['metadata']['name']} rolling to {wanted}",
                            hosted=hosted)
        pending = [md for md in self._machine_deployments(meta, topology, wanted) if not self._rolled(md)]
        if pending:
            names = ", ".join(md["metadata"]["name"] for md in pending)
            return Progress("MachineDeploymentsUpgradePending", f"MachineDeployments {names} rolling to {wanted}",
                            hosted=hosted)
        return Progress(hosted=hosted)

    def deleting(self, capi_cluster: Obj) -> bool:
        """Delete the Cluster's MachineDeployments, then its control plane; True while any is left."""
        meta = capi_cluster["metadata"]
        for kind in ("machinedeployments", "kubeadmcontrolplanes", "k0smotroncontrolplanes"):
            rt = self._type(kind)
            left = [o for o in self.cluster.objects(rt, meta["namespace"])
                    if (o["metadata"].get("labels") or {}).get(CLUSTER_NAME) == meta["name"]] if rt else []
            for obj in left:
                try:
                    self.cluster.delete(rt, meta["namespace"], obj["metadata"]["name"], {}, Write(manager=MANAGER))
                except statuses.ApiError:
                    continue
            if left:
                return True  # one kind per pass, workers first, as the Cluster controller orders it
        return False

    # ---- objects ---------------------------------------------------------------------------------

    def _control_plane(self, meta: dict[str, Any], topology: dict[str, Any], wanted: str, *, hosted: bool) -> Obj:
        kind, plural = ("K0smotronControlPlane", "k0smotroncontrolplanes") if hosted else (
            "KubeadmControlPlane", "kubeadmcontrolplanes")
        replicas = int((topology.get("controlPlane") or {}).get("replicas", 1))
        body = {"apiVersion": f"{CP_GROUP}/v1beta1", "kind": kind,
                "metadata": self._owned_meta(meta, f"{meta['name']}-control-plane"),
                "spec": {"version": wanted, "replicas": replicas}}
        return self._ensure(plural, body, spec={"version": wanted, "replicas": replicas}, hosted=hosted)

    def _machine_deployments(self, meta: dict[str, Any], topology: dict[str, Any], wanted: str) -> list[Obj]:
        found = []
        for md in ((topology.get("workers") or {}).get("machineDeployments") or []):
            replicas = int(md.get("replicas", 1))
            spec = {"clusterName": meta["name"], "replicas": replicas,
                    "template": {"spec": {"clusterName": meta["name"], "version": wanted}}}
            body = {"apiVersion": f"{GROUP}/v1beta1", "kind": "MachineDeployment",
                    "metadata": self._owned_meta(meta, f"{meta['name']}-{md['name']}"), "spec": spec}
            found.append(self._ensure("machinedeployments", body, spec=spec, hosted=False))
        return found

    @staticmethod
    def _owned_meta(meta: dict[str, Any], name: str) -> dict[str, Any]:
        owner = {"apiVersion": f"{GROUP}/v1beta1", "kind": "Cluster", "name": meta["name"], "uid": meta["uid"]}
        return {"name": name, "namespace": meta["namespace"], "ownerReferences": [owner],
                "labels": {CLUSTER_NAME: meta["name"], "topology.cluster.x-k8s.io/owned": ""}}

    def _ensure(self, plural: str, body: Obj, *, spec: dict[str, Any], hosted: bool) -> Obj:
        """Create ``body``, or move the live object's spec to ``spec``; then advance its status one step."""
        rt = self._type(plural)
        assert rt is not None
        meta = body["metadata"]
        how = Write(manager=MANAGER, validation="Ignore")
        live = self.cluster.find(rt, meta["namespace"], meta["name"])
        if live is None:
            live = self.cluster.create(rt, meta["namespace"], body, how)
        elif {k: live.get("spec", {}).get(k) for k in spec} != spec:
            live = self.cluster.replace(rt, meta["namespace"], meta["name"],
                                        {**_without_rv(live), "spec": {**live.get("spec", {}), **spec}}, how)
        status = self._status(live, hosted=hosted)
        if status != live.get("status"):
            live = self.cluster.write_status(rt, live, status, manager=MANAGER)
        return live

    def _status(self, obj: Obj, *, hosted: bool) -> dict[str, Any]:
        """The next status: machines of the current spec replace the old ones once this generation is due."""
        spec, old = obj.get("spec") or {}, obj.get("status") or {}
        replicas = int(spec.get("replicas", 1))
        done = self._due(obj)
        version = spec.get("version") or (spec.get("template") or {}).get("spec", {}).get("version")
        status: dict[str, Any] = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": replicas if done else replicas + 1,  # a surge machine while rolling
            "updatedReplicas": replicas if done else 0, "readyReplicas": replicas,
            "availableReplicas": replicas, "unavailableReplicas": 0,
        }
        if obj["kind"] == "MachineDeployment":
            status["phase"] = "Running" if done else "ScalingUp"
            return status
        status.update(initialized=True, ready=True, version=version if done else old.get("version", version))
        if hosted:
            status["externalManagedControlPlane"] = True  # k0smotron runs the control plane as pods
        return status

    def _rolled(self, obj: Obj, *, version: str = "") -> bool:
        status, spec = obj.get("status") or {}, obj.get("spec") or {}
        current = status.get("observedGeneration") == obj["metadata"].get("generation")
        at_version = not version or status.get("version") == version
        return current and at_version and status.get("updatedReplicas") == spec.get("replicas", 1) == status.get(
            "replicas")

    def _due(self, obj: Obj) -> bool:
        """True once this generation was seen on an earlier pass and ``upgrade_after`` seconds have passed."""
        key = (self.cluster.name, str(obj["metadata"]["uid"]), int(obj["metadata"].get("generation", 1)))
        if key not in self.seen:
            self.seen[key] = self.clock()
            return False
        return self.clock() - self.seen[key] >= self.upgrade_after

    def _type(self, plural: str) -> Any:
        group = CP_GROUP if plural.endswith("controlplanes") else GROUP
        return self.cluster.registry.lookup(group, "v1beta1", plural)


def _without_rv(obj: Obj) -> Obj:
    meta = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}
