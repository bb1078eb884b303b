"""Health of live objects: one small pure function per kind, a ranked result, the aggregate is the worst.

``HEALTHY > PROGRESSING > DEGRADED > UNKNOWN`` by rank; ``aggregate`` returns the lowest-ranked of its
inputs. A check that cannot decide (no status yet where one is expected, a malformed status) says
``UNKNOWN`` with a reason; no check ever raises. Cluster API kinds and their providers' groups follow
``core.clusterapi``. Other kinds without a rule are healthy once their controller has observed their
generation (when they report one) and their Ready/Available conditions (if any) are True; kinds with
neither are healthy once they exist (ConfigMaps, RBAC, ...). A fleet's own health rules
(``core.healthrules``) come first for the kinds they name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from reconciler.core import clusterapi
from reconciler.core.conditions import Health, Status, conditions, integer, is_true, observed, status_of
from reconciler.core.objects import CRD, Obj, ObjectKey

__all__ = ["Health", "Rule", "Status", "aggregate", "check", "conditions"]

Rule = Callable[[Obj], Status | None]
"""A fleet-defined rule: a status for the objects it covers, ``None`` for the rest."""


def _is_true(obj: Obj, kind: str) -> bool | None:
    return is_true(conditions(obj), kind)


def deployment(obj: Obj) -> Status:
    status = status_of(obj)
    if not status:
        return Status(Health.PROGRESSING, "no status yet")
    if _is_true(obj, "Progressing") is False:
        return Status(Health.DEGRADED, "progress deadline exceeded")
    if not observed(obj):
        return Status(Health.PROGRESSING, "generation not observed yet")
    wanted = integer((obj.get("spec") or {}).get("replicas", 1))
    ready = (integer(status.get("updatedReplicas")), integer(status.get("availableReplicas")))
    if min(ready) < wanted or integer(status.get("replicas")) > wanted:
        return Status(Health.PROGRESSING, f"{ready[1]}/{wanted} replicas available")
    return Status(Health.HEALTHY)


def _replicas(obj: Obj, *, wanted: int, ready: int, what: str) -> Status:
    if not status_of(obj) or not observed(obj):
        return Status(Health.PROGRESSING, "generation not observed yet")
    if ready < wanted:
        return Status(Health.PROGRESSING, f"{ready}/{wanted} {what}")
    return Status(Health.HEALTHY)


def stateful_set(obj: Obj) -> Status:
    status = status_of(obj)
    wanted = integer((obj.get("spec") or {}).get("replicas", 1))
    ready = min(integer(status.get("readyReplicas")), integer(status.get("updatedReplicas", wanted)))
    return _replicas(obj, wanted=wanted, ready=ready, what="replicas ready")


def daemon_set(obj: Obj) -> Status:
    status = status_of(obj)
    ready = min(integer(status.get("numberAvailable")), integer(status.get("updatedNumberScheduled")))
    return _replicas(obj, wanted=integer(status.get("desiredNumberScheduled")), ready=ready, what="pods available")


def job(obj: Obj) -> Status:
    if _is_true(obj, "Failed"):
        return Status(Health.DEGRADED, str(conditions(obj)["Failed"].get("message") or "job failed"))
    if _is_true(obj, "Complete"):
        return Status(Health.HEALTHY)
    return Status(Health.PROGRESSING, "job running")


def crd(obj: Obj) -> Status:
    established = _is_true(obj, "Established")
    if established:
        return Status(Health.HEALTHY)
    if _is_true(obj, "NamesAccepted") is False:
        return Status(Health.DEGRADED, "names not accepted")
    return Status(Health.PROGRESSING, "not established yet")


def _by_phase(obj: Obj, *, healthy: str, degraded: Mapping[str, str]) -> Status:
    phase = str(status_of(obj).get("phase") or "")
    if phase == healthy:
        return Status(Health.HEALTHY)
    if phase in degraded:
        return Status(Health.DEGRADED, degraded[phase])
    return Status(Health.PROGRESSING, f"phase {phase or 'unset'}")


def namespace(obj: Obj) -> Status:
    return _by_phase(obj, healthy="Active", degraded={"Terminating": "terminating"})


def pvc(obj: Obj) -> Status:
    return _by_phase(obj, healthy="Bound", degraded={"Lost": "claim lost its volume"})


def service(obj: Obj) -> Status:
    spec = obj.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return Status(Health.HEALTHY)
    ingress = ((status_of(obj).get("loadBalancer") or {}).get("ingress")) or []
    return Status(Health.HEALTHY) if ingress else Status(Health.PROGRESSING, "waiting for a load balancer")


def generic(obj: Obj) -> Status:
    """Any other kind: its generation observed (when it reports one), then its Ready/Available conditions."""
    status = status_of(obj)
    if "observedGeneration" in status and not observed(obj):
        return Status(Health.PROGRESSING, "generation not observed yet")
    found = conditions(obj)
    for kind in ("Ready", "Available"):
        if kind in found:
            if found[kind].get("status") == "True":
                return Status(Health.HEALTHY)
            return Status(Health.PROGRESSING, str(found[kind].get("message") or f"{kind} is not True"))
    return Status(Health.HEALTHY)


RULES: Mapping[str, Callable[[Obj], Status]] = {
    "Deployment.apps": deployment,
    "StatefulSet.apps": stateful_set,
    "DaemonSet.apps": daemon_set,
    "Job.batch": job,
    CRD: crd,
    "Namespace": namespace,
    "PersistentVolumeClaim": pvc,
    "Service": service,
    **clusterapi.BY_KIND,
}


def rule_for(obj: Obj) -> Callable[[Obj], Status]:
    """The built-in rule for ``obj``'s kind: by group and kind, then by Cluster API provider group."""
    key = ObjectKey.of(obj)
    found = RULES.get(key.group_kind) or clusterapi.BY_GROUP.get(key.group)
    if found is None and key.group.endswith(clusterapi.GROUP):
        return clusterapi.generic
    return found or generic


def check(obj: Obj | None, *, rules: Iterable[Rule] = ()) -> Status:
    """The health of ``obj`` (``UNKNOWN`` for a missing object or when the rule fails).

    ``rules`` (a fleet's own, ``core.healthrules``) are asked first; the first one that covers
    ``obj`` decides.
    """
    if obj is None:
        return Status(Health.UNKNOWN, "object not found")
    try:
        for rule in rules:
            found = rule(obj)
            if found is not None:
                return found
        return rule_for(obj)(obj)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return Status(Health.UNKNOWN, f"cannot decide: {type(exc).__name__}")


def aggregate(statuses: Iterable[Status]) -> Status:
    """The worst of ``statuses`` (healthy when there are none)."""
    return min(statuses, key=lambda s: s.health.rank, default=Status(Health.HEALTHY))
