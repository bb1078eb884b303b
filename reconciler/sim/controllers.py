"""Simulated controllers: workloads become ready after a delay, Deployments own a ReplicaSet, CAPI Clusters provision.

The Deployment controller creates a ReplicaSet per pod template and counts rollouts in the
``deployment.kubernetes.io/revision`` annotation of both; LoadBalancer Services get an address from a
simulated provider (``load_balancers``); APIServices are marked Available; ``cainjectors`` writes
webhook CA bundles as cert-manager's cainjector does.

``Controllers.tick()`` does one pass over every cluster of a server; a background thread calls it
every ``interval`` seconds. Time comes from the server's clock, so a test with a fake clock decides
when ``ready_after`` has passed.
"""

from __future__ import annotations

import hashlib
import json
import threading

from reconciler.core.objects import Obj
from reconciler.sim import cainjectors, capi, metas, statuses, workloads
from reconciler.sim.clusters import Cluster, Write
from reconciler.sim.resources import ResourceType
from reconciler.sim.server import SimServer

MANAGER = "kube-controller-manager"
REVISION = "deployment.kubernetes.io/revision"
"""The Deployment controller's rollout counter, on the Deployment and on each of its ReplicaSets."""


class Controllers:
    """Runs the simulated controllers of every cluster of ``server``."""

    def __init__(self, server: SimServer, *, ready_after: float = 0.0, interval: float = 0.05,
                 provision_after: float = 0.0, upgrade_after: float = 0.0, load_balancers: bool = True) -> None:
        self.server, self.ready_after, self.interval = server, ready_after, interval
        self.load_balancers = load_balancers
        """A simulated provider gives LoadBalancer Services an address; off, they wait forever, as on a
        cluster without a cloud controller manager."""
        self.capi = capi.Provisioner(server, provision_after=provision_after, upgrade_after=upgrade_after)
        self._seen: dict[tuple[str, str, int], float] = {}
        self._owned: set[tuple[str, str, int]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        for cluster in list(self.server.clusters.values()):
            for group, plural in workloads.KINDS:
                if (group, plural) == workloads.LOAD_BALANCERS and not self.load_balancers:
                    continue
                rt = cluster.registry.lookup(group, "v1", plural)
                if rt is None:
                    continue
                for obj in cluster.objects(rt):
                    self._reconcile(cluster, rt, obj)
            cainjectors.tick(cluster)
        self.capi.tick()

    def _reconcile(self, cluster: Cluster, rt: ResourceType, obj: Obj) -> None:
        handlers = workloads.KINDS.get((rt.group, rt.plural))
        if handlers is None or obj["metadata"].get("deletionTimestamp"):
            return
        status_for, is_current = handlers
        if (rt.group, rt.plural) == ("apps", "deployments") and self._generation_key(cluster, obj) not in self._owned:
            self._own_replica_set(cluster, obj)
            self._owned.add(self._generation_key(cluster, obj))
        if is_current(obj) or not self._due(cluster, obj):
            return
        try:
            cluster.write_status(rt, obj, status_for(obj, metas.timestamp(self.server.clock())), manager=MANAGER)
        except statuses.ApiError:
            return  # deleted or changed meanwhile: the next tick sees the new state

    def _due(self, cluster: Cluster, obj: Obj) -> bool:
        """True once ``ready_after`` seconds have passed since this generation was first seen."""
        first = self._seen.setdefault(self._generation_key(cluster, obj), self.server.clock())
        return self.server.clock() - first >= self.ready_after

    @staticmethod
    def _generation_key(cluster: Cluster, obj: Obj) -> tuple[str, str, int]:
        return (cluster.name, str(obj["metadata"]["uid"]), int(obj["metadata"].get("generation", 1)))

    def _own_replica_set(self, cluster: Cluster, deployment: Obj) -> None:
        replica_sets = cluster.registry.lookup("apps", "v1", "replicasets")
        meta = deployment["metadata"]
        template = (deployment.get("spec") or {}).get("template") or {}
        digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        name = f"{meta['name']}-{digest}"
        if replica_sets is None or cluster.find(replica_sets, meta["namespace"], name) is not None:
            return
        revision = self._next_revision(cluster, replica_sets, deployment)
        try:
            cluster.create(replica_sets, meta["namespace"], _replica_set(deployment, name, digest, revision),
                           Write(manager=MANAGER, validation="Ignore"))
            self._annotate(cluster, deployment, revision)
        except statuses.ApiError:
            return

    @staticmethod
    def _next_revision(cluster: Cluster, replica_sets: ResourceType, deployment: Obj) -> int:
        """One more than the highest revision of the Deployment's ReplicaSets (the controller's counter)."""
        uid = deployment["metadata"]["uid"]
        owned = [rs for rs in cluster.objects(replica_sets, deployment["metadata"]["namespace"])
                 if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])]
        return 1 + max((int((rs["metadata"].get("annotations") or {}).get(REVISION, "0")) for rs in owned), default=0)

    @staticmethod
    def _annotate(cluster: Cluster, deployment: Obj, revision: int) -> None:
        """``deployment.kubernetes.io/revision`` on the Deployment, written as the controller's update."""
        deployments = cluster.registry.lookup("apps", "v1", "deployments")
        meta = deployment["metadata"]
        if deployments is None:
            return

        def stamp(obj: Obj) -> Obj:
            annotations = {**(obj["metadata"].get("annotations") or {}), REVISION: str(revision)}
            return {**obj, "metadata": {**obj["metadata"], "annotations": annotations}}

        cluster.patch(deployments, meta["namespace"], meta["name"], stamp, Write(manager=MANAGER, validation="Ignore"))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def start(self) -> Controllers:
        self._thread = threading.Thread(target=self._run, name="sim-controllers", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Controllers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _replica_set(deployment: Obj, name: str, digest: str, revision: int) -> Obj:
    meta, spec = deployment["metadata"], deployment.get("spec") or {}
    template = json.loads(json.dumps(spec.get("template") or {}))
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = digest
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"], "uid": meta["uid"],
             "controller": True, "blockOwnerDeletion": True}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": meta["namespace"], "ownerReferences": [owner],
                         "labels": dict(template["metadata"]["labels"]),
                         "annotations": {REVISION: str(revision)}},
            "spec": {"replicas": spec.get("replicas", 1), "selector": spec.get("selector", {}), "template": template}}
