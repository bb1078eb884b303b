"""Simulated controllers: workloads become ready after a delay, Deployments own a ReplicaSet, CAPI Clusters provision.

The Deployment controller creates a ReplicaSet per pod template and counts rollouts in the
``deployment.kubernetes.io/revision`` annotation of both; LoadBalancer Services get an address from a
simulated provider (``load_balancers``); APIServices are marked Available; ``cainjectors`` writes
webhook CA bundles as cert-manager's cainjector does.

``Controllers.tick()`` does one pass over every cluster of a server; a background thread calls it
every ``interval`` seconds. A pass is driven by writes, as kube-controller-manager's informers are:
the first pass over a cluster reads every workload and hooks the cluster's ``on_change``; later
passes look only at the workloads written since (the hook queues their keys) and at those still
waiting for ``ready_after`` to pass, so an idle fleet costs the sim nothing. Time comes from the
server's clock, so a test with a fake clock decides when ``ready_after`` has passed.
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
        self._load_balancers = load_balancers
        self.capi = capi.Provisioner(server, provision_after=provision_after, upgrade_after=upgrade_after)
        self._seen: dict[tuple[str, str, int], float] = {}
        self._written: dict[int, set[tuple[ResourceType, str, str]]] = {}
        """Per cluster hooked (by ``id``, the cluster kept in ``_hooked``): workloads written since the last
        pass, and those not yet ready."""
        self._hooked: dict[int, Cluster] = {}
        self._queue_lock = threading.Lock()
        self._rescan = False
        self._owned: set[tuple[str, str, int]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def load_balancers(self) -> bool:
        """A simulated provider gives LoadBalancer Services an address; off, they wait forever, as on a
        cluster without a cloud controller manager. Turning it on makes the next pass read every workload."""
        return self._load_balancers

    @load_balancers.setter
    def load_balancers(self, on: bool) -> None:
        self._load_balancers = on
        if on:
            with self._queue_lock:
                self._rescan = True

    def tick(self) -> None:
        for cluster in list(self.server.clusters.values()):
            for rt, obj in self._to_look_at(cluster):
                self._reconcile(cluster, rt, obj)
            cainjectors.tick(cluster)
        with self._queue_lock:
            self._rescan = False
        self.capi.tick()

    def _to_look_at(self, cluster: Cluster) -> list[tuple[ResourceType, Obj]]:
        """Every workload the first time ``cluster`` is seen (hooking its writes), then the ones written since."""
        with self._queue_lock:
            first = self._hooked.get(id(cluster)) is not cluster
            if first:
                self._hooked[id(cluster)], self._written[id(cluster)] = cluster, set()
                cluster.on_change.append(self._queue)
            keys, self._written[id(cluster)] = self._written[id(cluster)], set()
            everything = first or self._rescan
        if everything:
            return [(rt, obj) for rt in self._workload_types(cluster) for obj in cluster.objects(rt)]
        found = [(rt, cluster.find(rt, namespace, name)) for rt, namespace, name in keys]
        return [(rt, obj) for rt, obj in found if obj is not None]

    @staticmethod
    def _workload_types(cluster: Cluster) -> list[ResourceType]:
        found = (cluster.registry.lookup(group, "v1", plural) for group, plural in workloads.KINDS)
        return [rt for rt in found if rt is not None]

    def _queue(self, cluster: Cluster, event: str, rt: ResourceType, obj: Obj) -> None:
        """``Cluster.on_change`` hook: a workload was written (never deleted: nothing to do for those)."""
        if event != "DELETED" and (rt.group, rt.plural) in workloads.KINDS:
            self._again(cluster, rt, obj)

    def _again(self, cluster: Cluster, rt: ResourceType, obj: Obj) -> None:
        meta = obj["metadata"]
        with self._queue_lock:
            self._written[id(cluster)].add((rt, str(meta.get("namespace") or ""), str(meta["name"])))

    def _reconcile(self, cluster: Cluster, rt: ResourceType, obj: Obj) -> None:
        handlers = workloads.KINDS.get((rt.group, rt.plural))
        if handlers is None or obj["metadata"].get("deletionTimestamp"):
            return
        if (rt.group, rt.plural) == workloads.LOAD_BALANCERS and not self.load_balancers:
            return
        status_for, is_current = handlers
        if (rt.group, rt.plural) == ("apps", "deployments") and self._generation_key(cluster, obj) not in self._owned:
            self._own_replica_set(cluster, obj)
            self._owned.add(self._generation_key(cluster, obj))
        if is_current(obj):
            return
        if not self._due(cluster, obj):
            self._again(cluster, rt, obj)  # not ready yet: look again next pass
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
