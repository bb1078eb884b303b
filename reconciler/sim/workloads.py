"""What the simulated controllers write into status: one small function per kind.

Each ``status_for`` function takes the object and the current time (RFC 3339) and returns the status
a healthy controller would report once the object has rolled out; ``is_current`` says whether the
object already reports it, so controllers write only real changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from reconciler.core.objects import Obj

Status = dict[str, Any]


def _replicas(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return int(value) if value is not None else 1


def _condition(kind: str, reason: str, now: str, message: str = "") -> Status:
    return {"type": kind, "status": "True", "reason": reason, "message": message,
            "lastTransitionTime": now, "lastUpdateTime": now}


def deployment(obj: Obj, now: str) -> Status:
    n = _replicas(obj)
    return {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": n, "updatedReplicas": n,
            "readyReplicas": n, "availableReplicas": n,
            "conditions": [_condition("Available", "MinimumReplicasAvailable", now,
                                      "Deployment has minimum availability."),
                           _condition("Progressing", "NewReplicaSetAvailable", now,
                                      f'ReplicaSet "{obj["metadata"]["name"]}" has successfully progressed.')]}


def replica_set(obj: Obj, now: str) -> Status:
    n = _replicas(obj)
    return {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": n, "readyReplicas": n,
            "availableReplicas": n, "fullyLabeledReplicas": n}


def stateful_set(obj: Obj, now: str) -> Status:
    n, revision = _replicas(obj), f"{obj['metadata']['name']}-{obj['metadata'].get('generation', 1)}"
    return {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": n, "readyReplicas": n,
            "currentReplicas": n, "updatedReplicas": n, "availableReplicas": n, "currentRevision": revision,
            "updateRevision": revision, "collisionCount": 0}


def daemon_set(obj: Obj, now: str) -> Status:
    return {"observedGeneration": obj["metadata"].get("generation", 1), "desiredNumberScheduled": 1,
            "currentNumberScheduled": 1, "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1,
            "numberMisscheduled": 0}


def job(obj: Obj, now: str) -> Status:
    completions = int((obj.get("spec") or {}).get("completions") or 1)
    return {"startTime": now, "completionTime": now, "succeeded": completions, "ready": 0, "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [_condition("SuccessCriteriaMet", "CompletionsReached", now, "Reached expected number of succeeded pods"),
                           _condition("Complete", "CompletionsReached", now, "Reached expected number of succeeded pods")]}


def claim(obj: Obj, now: str) -> Status:
    spec = obj.get("spec") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {"phase": "Bound", "accessModes": spec.get("accessModes", ["ReadWriteOnce"]),
            "capacity": {"storage": storage}}


def load_balancer(obj: Obj, now: str) -> Status:
    """A simulated cloud provider's address for a LoadBalancer Service (one per Service, from its uid, in
    TEST-NET-2), as a cloud controller manager writes ``status.loadBalancer.ingress``."""
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return dict(obj.get("status") or {})
    number = int(hashlib.sha256(str(obj["metadata"].get("uid", "")).encode()).hexdigest()[:4], 16) % 254 + 1
    return {"loadBalancer": {"ingress": [{"ip": f"198.51.100.{number}", "ipMode": "VIP"}]}}


def api_service(obj: Obj, now: str) -> Status:
    """kube-aggregator's availability check, passing: ``Local`` without a service, else ``Passed``."""
    local = not (obj.get("spec") or {}).get("service")
    reason, message = ("Local", "Local APIServices are always available") if local else ("Passed", "all checks passed")
    return {"conditions": [{"type": "Available", "status": "True", "reason": reason, "message": message,
                            "lastTransitionTime": now}]}


def _has_address(obj: Obj) -> bool:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return True
    return bool(((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"))


def _available(obj: Obj) -> bool:
    return any(c.get("type") == "Available" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def _observed(obj: Obj) -> bool:
    status = obj.get("status") or {}
    return status.get("observedGeneration") == obj["metadata"].get("generation", 1) and bool(status.get("replicas")
                                                                                              is not None)


def _rolled_out(obj: Obj) -> bool:
    status = obj.get("status") or {}
    return _observed(obj) and status.get("readyReplicas") == _replicas(obj)


def _daemon_ready(obj: Obj) -> bool:
    status = obj.get("status") or {}
    return status.get("observedGeneration") == obj["metadata"].get("generation", 1) and status.get("numberReady") == 1


def _job_done(obj: Obj) -> bool:
    return bool((obj.get("status") or {}).get("completionTime"))


def _bound(obj: Obj) -> bool:
    return (obj.get("status") or {}).get("phase") == "Bound"


KINDS: dict[tuple[str, str], tuple[Callable[[Obj, str], Status], Callable[[Obj], bool]]] = {
    ("apps", "deployments"): (deployment, _rolled_out),
    ("apps", "replicasets"): (replica_set, _rolled_out),
    ("apps", "statefulsets"): (stateful_set, _rolled_out),
    ("apps", "daemonsets"): (daemon_set, _daemon_ready),
    ("batch", "jobs"): (job, _job_done),
    ("", "persistentvolumeclaims"): (claim, _bound),
    ("", "services"): (load_balancer, _has_address),
    ("apiregistration.k8s.io", "apiservices"): (api_service, _available),
}
LOAD_BALANCERS = ("", "services")
"""The entry a cluster without a load-balancer provider leaves out (``Controllers(load_balancers=False)``)."""
