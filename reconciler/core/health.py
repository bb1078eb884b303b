"""Health of live objects: one small pure function per kind, a ranked result, the aggregate is the worst.

``HEALTHY > PROGRESSING > DEGRADED > UNKNOWN`` by rank; ``aggregate`` returns the lowest-ranked of its
inputs. A check that cannot decide (no status yet where one is expected, a malformed status) says
``UNKNOWN`` with a reason; no check ever raises. Kinds without a rule and without status conditions are
healthy once they exist (ConfigMaps, RBAC, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.core.objects import Obj, ObjectKey


class Health(Enum):
    """Ranked: a higher ``rank`` is better."""

    UNKNOWN = ("Unknown", 0)
    DEGRADED = ("Degraded", 1)
    PROGRESSING = ("Progressing", 2)
    HEALTHY = ("Healthy", 3)

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def rank(self) -> int:
        return self.value[1]


@dataclass(frozen=True)
class Status:
    health: Health
    reason: str = ""


def _status(obj: Obj) -> Mapping[str, Any]:
    found = obj.get("status")
    return found if isinstance(found, Mapping) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def conditions(obj: Obj) -> dict[str, Mapping[str, Any]]:
    """Status conditions by type (malformed entries left out)."""
    found = _status(obj).get("conditions")
    items = found if isinstance(found, list) else []
    return {str(c["type"]): c for c in items if isinstance(c, Mapping) and "type" in c}


def _is_true(obj: Obj, kind: str) -> bool | None:
    condition = conditions(obj).get(kind)
    return None if condition is None else condition.get("status") == "True"


def _observed(obj: Obj) -> bool:
    generation = _int((obj.get("metadata") or {}).get("generation"))
    return _int(_status(obj).get("observedGeneration")) >= generation


def deployment(obj: Obj) -> Status:
    status = _status(obj)
    if not status:
        return Status(Health.PROGRESSING, "no status yet")
    if _is_true(obj, "Progressing") is False:
        return Status(Health.DEGRADED, "progress deadline exceeded")
    if not _observed(obj):
        return Status(Health.PROGRESSING, "generation not observed yet")
    wanted = _int((obj.get("spec") or {}).get("replicas", 1))
    ready = (_int(status.get("updatedReplicas")), _int(status.get("availableReplicas")))
    if min(ready) < wanted or _int(status.get("replicas")) > wanted:
        return Status(Health.PROGRESSING, f"{ready[1]}/{wanted} replicas available")
    return Status(Health.HEALTHY)


def _replicas(obj: Obj, *, wanted: int, ready: int, what: str) -> Status:
    if not _status(obj) or not _observed(obj):
        return Status(Health.PROGRESSING, "generation not observed yet")
    if ready < wanted:
        return Status(Health.PROGRESSING, f"{ready}/{wanted} {what}")
    return Status(Health.HEALTHY)


def stateful_set(obj: Obj) -> Status:
    status = _status(obj)
    wanted = _int((obj.get("spec") or {}).get("replicas", 1))
    ready = min(_int(status.get("readyReplicas")), _int(status.get("updatedReplicas", wanted)))
    return _replicas(obj, wanted=wanted, ready=ready, what="replicas ready")


def daemon_set(obj: Obj) -> Status:
    status = _status(obj)
    ready = min(_int(status.get("numberAvailable")), _int(status.get("updatedNumberScheduled")))
    return _replicas(obj, wanted=_int(status.get("desiredNumberScheduled")), ready=ready, what="pods available")


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
    phase = str(_status(obj).get("phase") or "")
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
    ingress = ((_status(obj).get("loadBalancer") or {}).get("ingress")) or []
    return Status(Health.HEALTHY) if ingress else Status(Health.PROGRESSING, "waiting for a load balancer")


def capi_cluster(obj: Obj) -> Status:
    ready = _is_true(obj, "Ready")
    if ready:
        return Status(Health.HEALTHY)
    if _status(obj).get("phase") == "Failed":
        return Status(Health.DEGRADED, str(_status(obj).get("failureMessage") or "provisioning failed"))
    return Status(Health.PROGRESSING, "not ready yet")


def generic(obj: Obj) -> Status:
    """Objects with Ready/Available conditions; anything else is healthy once it exists."""
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
    "CustomResourceDefinition.apiextensions.k8s.io": crd,
    "Namespace": namespace,
    "PersistentVolumeClaim": pvc,
    "Service": service,
    "Cluster.cluster.x-k8s.io": capi_cluster,
}


def check(obj: Obj | None) -> Status:
    """The health of ``obj`` (``UNKNOWN`` for a missing object or when the rule fails)."""
    if obj is None:
        return Status(Health.UNKNOWN, "object not found")
    try:
        return RULES.get(ObjectKey.of(obj).group_kind, generic)(obj)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return Status(Health.UNKNOWN, f"cannot decide: {type(exc).__name__}")


def aggregate(statuses: Iterable[Status]) -> Status:
    """The worst of ``statuses`` (healthy when there are none)."""
    return min(statuses, key=lambda s: s.health.rank, default=Status(Health.HEALTHY))
