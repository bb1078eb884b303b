"""The ``scale`` subresource of Deployments, StatefulSets and ReplicaSets (autoscaling/v1 Scale).

``kubectl scale`` and autoscalers read and write ``spec.replicas`` through it; the write is recorded
as an update of the main resource by the request's field manager, in a managed-fields entry with
``subresource: scale`` and the main resource's apiVersion, as kube-apiserver records it (its scale
handler converts the Scale to the parent object and runs the field manager with the subresource).
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.core.objects import Obj
from reconciler.sim import statuses
from reconciler.sim.clusters import Cluster, Write
from reconciler.sim.discovery import SCALABLE
from reconciler.sim.resources import ResourceType


def scalable(rt: ResourceType) -> bool:
    return (rt.group, rt.plural) in SCALABLE


def _selector(obj: Obj) -> str:
    labels = (((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def of(obj: Obj) -> Obj:
    """The Scale view of ``obj``."""
    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": _selector(obj)}}


def write(cluster: Cluster, rt: ResourceType, *, namespace: str, name: str, change: Callable[[Obj], Obj],
          how: Write) -> Obj:
    """Apply ``change`` (Scale -> Scale) and store the new replica count; answer the new Scale."""
    live = cluster.get(rt, namespace, name)
    wanted = change(of(live))
    replicas = (wanted.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise statuses.invalid(group="autoscaling", kind="Scale", name=name, causes=[
            {"type": "FieldValueInvalid", "message": "must be a non-negative integer", "field": "spec.replicas"}])
    main = Write(manager=how.manager, dry_run=how.dry_run, validation="Ignore", subresource="scale")
    return of(cluster.patch(rt, namespace, name, lambda obj: _with_replicas(obj, replicas), main))


def _with_replicas(obj: Obj, replicas: int) -> Obj:
    return {**obj, "spec": {**(obj.get("spec") or {}), "replicas": replicas}}
