"""The health gate: wait until applied objects are healthy, within the bundle's health timeout.

Objects are checked first as the apply answered them, then re-read (GET) only while Progressing,
polling at ``poll`` seconds at first and twice as long each round after (at most ``max_poll``). A kind
with several objects pending is re-read with one LIST by the bundle's labels instead of a GET each.
A fleet's own health rules (``core.healthrules``) come first for the kinds they name.
Degraded fails at once; Unknown (a check that cannot decide) lets the gate pass and is reported.

A Cluster API ``Cluster`` with a managed topology is healthy only once its rollout is done as well
(``core.clusterapi.rolled_out``): its control plane (``spec.controlPlaneRef``, else the control-plane
kinds labelled with the cluster's name) and its MachineDeployments (by that label) report the
topology's Kubernetes version and are available. So a version bump holds the child's add-ons until
the control plane and then the workers have been upgraded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.core import clusterapi, health
from reconciler.core.objects import LABEL_BUNDLE, LABEL_FLEET, LABEL_STACK, Obj, ObjectKey
from reconciler.engine.ports import ClusterApi


@dataclass(frozen=True)
class GateResult:
    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class Timing:
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    poll: float = 0.05
    max_poll: float = 2.0


def wait_healthy(client: ClusterApi, applied: Mapping[ObjectKey, Obj], *, timeout: float,
                 timing: Timing, rules: Sequence[health.Rule] = ()) -> GateResult:
    """Block until every object in ``applied`` is healthy (or the gate fails)."""
    deadline = timing.clock() + timeout
    current = dict(applied)
    poll = timing.poll
    while True:
        pending, failed = _sort(current, client, rules)
        if failed:
            return GateResult(False, failed)
        if not pending:
            return GateResult(True)
        if timing.clock() >= deadline:
            first = next(iter(pending.items()))
            return GateResult(False, f"health timeout after {timeout:g}s: {first[0]} is {first[1]}")
        timing.sleep(min(poll, max(0.0, deadline - timing.clock())))
        poll = min(poll * 2, timing.max_poll)
        current = reread(client, [(key, current[key]) for key in pending])


WAIT_GONE = frozenset({f"Cluster.{clusterapi.GROUP}"})
"""Kinds whose deletion is waited for until the object is gone: a Cluster API Cluster's finalizer holds
it while its machines, control plane and kubeconfig Secret are deleted."""


def wait_gone(client: ClusterApi, key: ObjectKey, *, timeout: float, timing: Timing) -> GateResult:
    """Block until ``key`` no longer exists (its finalizers are done), or ``timeout`` seconds pass."""
    deadline = timing.clock() + timeout
    poll = timing.poll
    while True:
        found = client.get(key)
        if found is None:
            return GateResult(True)
        if timing.clock() >= deadline:
            waiting = ", ".join((found.get("metadata") or {}).get("finalizers") or []) or "none"
            return GateResult(False, f"{key} still exists after {timeout:g}s (finalizers: {waiting})")
        timing.sleep(min(poll, max(0.0, deadline - timing.clock())))
        poll = min(poll * 2, timing.max_poll)


def reread(client: ClusterApi, objects: Sequence[tuple[ObjectKey, Obj]]) -> dict[ObjectKey, Obj]:
    """The objects read again: one LIST by their bundle's labels for a kind with several, else a GET."""
    by_kind: dict[str, list[ObjectKey]] = {}
    for key, _ in objects:
        by_kind.setdefault(key.group_kind, []).append(key)
    selector = _selector(objects[0][1]) if objects else ""
    found: dict[ObjectKey, Obj] = {}
    for group_kind, keys in by_kind.items():
        if len(keys) > 1 and selector:
            listed = {ObjectKey.of(o): o for o in client.list_kind(group_kind, selector=selector)}
            found.update({key: listed.get(key, {}) for key in keys})
        else:
            found.update({key: client.get(key) or {} for key in keys})
    return found


def _selector(obj: Obj) -> str:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    marks = [(name, labels.get(name)) for name in (LABEL_FLEET, LABEL_STACK, LABEL_BUNDLE)]
    return ",".join(f"{name}={value}" for name, value in marks) if all(v for _, v in marks) else ""


def _sort(objects: Mapping[ObjectKey, Obj], client: ClusterApi,
          rules: Sequence[health.Rule]) -> tuple[dict[ObjectKey, str], str]:
    pending: dict[ObjectKey, str] = {}
    for key, obj in objects.items():
        status = health.check(obj or None, rules=rules)
        if status.health is health.Health.HEALTHY and obj and clusterapi.topology_version(obj):
            status = _rollout(client, key, obj)
        if status.health is health.Health.DEGRADED:
            return {}, f"{key} is Degraded: {status.reason}"
        if status.health is health.Health.PROGRESSING:
            pending[key] = f"Progressing ({status.reason})"
    return pending, ""


def _rollout(client: ClusterApi, key: ObjectKey, obj: Obj) -> health.Status:
    """The topology rollout of Cluster ``obj``, read from its control plane and MachineDeployments."""
    selector = f"{clusterapi.CLUSTER_NAME_LABEL}={key.name}"
    ref = (obj.get("spec") or {}).get("controlPlaneRef") or {}
    if ref.get("kind") and ref.get("name"):
        group = str(ref.get("apiVersion", "")).rpartition("/")[0] or str(ref.get("apiGroup", ""))
        found = client.get(ObjectKey(group, str(ref["kind"]), key.namespace, str(ref["name"])))
        planes = [found] if found else []
    else:
        planes = [o for kind in clusterapi.CONTROL_PLANE_KINDS
                  for o in client.list_kind(f"{kind}.{clusterapi.CONTROL_PLANE_GROUP}", selector=selector)
                  if ObjectKey.of(o).namespace == key.namespace]
    workers = [o for o in client.list_kind(f"MachineDeployment.{clusterapi.GROUP}", selector=selector)
               if ObjectKey.of(o).namespace == key.namespace]
    return clusterapi.rolled_out(obj, control_planes=planes, machine_deployments=workers)
