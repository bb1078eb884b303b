"""Health of Cluster API objects, as the Cluster API contracts define it. Pure: one small function per kind.

Every rule first asks the common questions: is the object being deleted (Progressing), did its
controller report a terminal failure (``failureReason``/``failureMessage``, phase ``Failed``:
Degraded), and has the controller observed the current spec (``status.observedGeneration`` against
``metadata.generation``: Progressing until it has)?

Conditions come in two shapes. Objects served as ``v1beta1`` carry the v1beta1 conditions in
``status.conditions`` (``Ready``, ``ControlPlaneReady``, ``InfrastructureReady``) and, from Cluster API
1.9 on, the new ones in ``status.v1beta2.conditions``; objects served as ``v1beta2`` (Cluster API 1.11)
carry the new ones in ``status.conditions`` and the old ones in ``status.deprecated.v1beta1.conditions``.
The new set decides when it is there: ``Available`` (and ``ControlPlaneAvailable``,
``InfrastructureReady``, ``WorkersAvailable``) must be True, and ``RollingOut``, ``ScalingUp``,
``ScalingDown`` or ``Remediating`` being True means the object is still moving (Progressing). A
``TopologyReconciled`` condition that is False (``ControlPlaneUpgradePending``,
``MachineDeploymentsUpgradePending``, ...) means a managed topology has not caught up with the
Cluster's spec, e.g. during a Kubernetes version upgrade.

Provider objects follow the provider contracts: a control plane (``controlplane.cluster.x-k8s.io``:
KubeadmControlPlane, K0sControlPlane, K0smotronControlPlane, KThreesControlPlane, ...) reports
``initialized``/``ready`` (v1beta2: ``initialization.controlPlaneInitialized``), ``version`` and replica
counts; an infrastructure object (``infrastructure.cluster.x-k8s.io``) reports ``ready`` (v1beta2:
``initialization.provisioned``); a bootstrap config reports ``ready`` (``dataSecretCreated``).
Templates have no status and are healthy once they exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.core import conditions as c
from reconciler.core.conditions import HEALTHY, Status
from reconciler.core.objects import Obj

GROUP = "cluster.x-k8s.io"
CONTROL_PLANE_GROUP = f"controlplane.{GROUP}"
INFRASTRUCTURE_GROUP = f"infrastructure.{GROUP}"
BOOTSTRAP_GROUP = f"bootstrap.{GROUP}"
MOVING = ("RollingOut", "ScalingUp", "ScalingDown", "Remediating")


def is_v1beta2(obj: Obj) -> bool:
    return str(obj.get("apiVersion", "")).endswith("/v1beta2")


def v1beta1_conditions(obj: Obj) -> dict[str, Mapping[str, Any]]:
    status = c.status_of(obj)
    if is_v1beta2(obj):
        return c.by_type(c.mapping(c.mapping(status.get("deprecated")).get("v1beta1")).get("conditions"))
    return c.by_type(status.get("conditions"))


def v1beta2_conditions(obj: Obj) -> dict[str, Mapping[str, Any]]:
    status = c.status_of(obj)
    if is_v1beta2(obj):
        return c.by_type(status.get("conditions"))
    return c.by_type(c.mapping(status.get("v1beta2")).get("conditions"))


def _common(obj: Obj) -> Status | None:
    """Deleting, failed, or not observed yet (see the module docstring); ``None`` when none applies."""
    if c.mapping(obj.get("metadata")).get("deletionTimestamp"):
        return c.progressing("being deleted")
    status = c.status_of(obj)
    legacy = c.mapping(c.mapping(status.get("deprecated")).get("v1beta1"))
    for where in (status, legacy):
        if where.get("failureReason") or where.get("failureMessage"):
            return c.degraded(str(where.get("failureMessage") or where.get("failureReason")))
    if status.get("phase") == "Failed":
        return c.degraded("phase Failed")
    if not status:
        return c.progressing("no status yet")
    if not c.observed(obj):
        observed = c.integer(status.get("observedGeneration"))
        return c.progressing(f"generation {c.generation(obj)} not observed yet (observed {observed})")
    return None


def _by_conditions(obj: Obj, *, available: tuple[str, ...], ready: tuple[str, ...]) -> Status | None:
    """The new condition set when present (``available`` True, nothing moving), else the v1beta1 ``ready`` set."""
    new = v1beta2_conditions(obj)
    if new:
        return c.first_false(new, available, obj=obj) or c.first_true(new, MOVING) or c.first_false(
            new, ("TopologyReconciled",), obj=obj)
    old = v1beta1_conditions(obj)
    if not old:
        return None
    return c.first_false(old, ready, obj=obj) or c.first_false(old, ("TopologyReconciled",), obj=obj)


def cluster(obj: Obj) -> Status:
    """A Cluster: Available (v1beta2) or Ready with its control plane and infrastructure (v1beta1)."""
    found = _common(obj)
    if found:
        return found
    new, old = v1beta2_conditions(obj), v1beta1_conditions(obj)
    if "Available" not in new and "Ready" not in old:
        return c.progressing("neither Available nor Ready reported yet")
    found = _by_conditions(obj, available=("Available", "InfrastructureReady", "ControlPlaneAvailable",
                                           "WorkersAvailable"),
                           ready=("Ready", "InfrastructureReady", "ControlPlaneReady"))
    if found:
        return found
    status = c.status_of(obj)
    for flag in ("infrastructureReady", "controlPlaneReady"):
        if status.get(flag) is False:
            return c.progressing(f"{flag} is false")
    return HEALTHY


def control_plane(obj: Obj) -> Status:
    """A control-plane provider object: initialized, ready, at the wanted version, with every replica up to date."""
    found = _common(obj)
    if found:
        return found
    status, spec = c.status_of(obj), c.spec_of(obj)
    initialized = status.get("initialized") or c.mapping(status.get("initialization")).get(
        "controlPlaneInitialized")
    if not initialized:
        return c.progressing("control plane not initialized yet")
    if status.get("ready") is False:
        return c.progressing("control plane not ready")
    wanted = spec.get("version")
    if wanted and status.get("version") != wanted:
        return c.progressing(f"control plane at {status.get('version') or 'no version'}, wants {wanted}")
    return _replicas(obj, what="control plane") or _by_conditions(
        obj, available=("Available",), ready=("Ready",)) or HEALTHY


def _replicas(obj: Obj, *, what: str) -> Status | None:
    """Every wanted replica up to date and available, and no old one left (``spec.replicas`` wanted)."""
    status, spec = c.status_of(obj), c.spec_of(obj)
    if "replicas" not in spec:
        return None
    wanted = c.integer(spec.get("replicas"))
    updated = c.integer(status.get("upToDateReplicas", status.get("updatedReplicas")))
    if "availableReplicas" in status:
        available = c.integer(status.get("availableReplicas"))
    else:
        available = c.integer(status.get("readyReplicas")) - c.integer(status.get("unavailableReplicas"))
    current = c.integer(status.get("replicas"))
    if updated < wanted or available < wanted or current > wanted:
        return c.progressing(f"{what}: {updated}/{wanted} up to date, {available}/{wanted} available, {current} in all")
    return None


def machine_deployment(obj: Obj) -> Status:
    """A MachineDeployment or MachineSet: its machines rolled out to the current template and available."""
    return (_common(obj) or _replicas(obj, what="machines")
            or _by_conditions(obj, available=("Available",), ready=("Ready",)) or HEALTHY)


def machine(obj: Obj) -> Status:
    """A Machine: phase Running (v1beta1) or Available (v1beta2)."""
    found = _common(obj) or _by_conditions(obj, available=("Available", "Ready"), ready=("Ready",))
    if found:
        return found
    phase = str(c.status_of(obj).get("phase") or "")
    return HEALTHY if phase in ("Running", "") else c.progressing(f"phase {phase}")


def provisioned(obj: Obj) -> Status:
    """An infrastructure or bootstrap provider object: ``status.ready`` (v1beta2: ``initialization``)."""
    if str(obj.get("kind", "")).endswith("Template"):
        return HEALTHY  # templates are cloned, never reconciled: they have no status
    found = _common(obj)
    if found:
        return found
    status = c.status_of(obj)
    initialization = c.mapping(status.get("initialization"))
    if status.get("ready") is True or initialization.get("provisioned") is True or initialization.get(
            "dataSecretCreated") is True:
        return _by_conditions(obj, available=("Ready",), ready=("Ready",)) or HEALTHY
    return c.progressing(f"{obj.get('kind', 'object')} not ready yet")


BY_KIND: Mapping[str, Callable[[Obj], Status]] = {
    f"Cluster.{GROUP}": cluster,
    f"MachineDeployment.{GROUP}": machine_deployment,
    f"MachineSet.{GROUP}": machine_deployment,
    f"MachinePool.{GROUP}": machine_deployment,
    f"Machine.{GROUP}": machine,
}
BY_GROUP: Mapping[str, Callable[[Obj], Status]] = {
    CONTROL_PLANE_GROUP: control_plane,
    INFRASTRUCTURE_GROUP: provisioned,
    BOOTSTRAP_GROUP: provisioned,
}


def generic(obj: Obj) -> Status:
    """Any other object of a Cluster API group: the common questions, then whichever condition set it has."""
    return _common(obj) or _by_conditions(obj, available=("Available",), ready=("Ready",)) or HEALTHY


CONTROL_PLANE_KINDS = ("KubeadmControlPlane", "K0smotronControlPlane", "K0sControlPlane", "KThreesControlPlane",
                       "RKE2ControlPlane", "TalosControlPlane")
"""Control-plane kinds looked up by the ``cluster.x-k8s.io/cluster-name`` label when a Cluster has no
``spec.controlPlaneRef`` yet (upstream, the topology controller sets it; the reference fleet's trimmed
CRD prunes it)."""
CLUSTER_NAME_LABEL = f"{GROUP}/cluster-name"


def topology_version(obj: Obj) -> str:
    """The Kubernetes version a Cluster's managed topology asks for ("" for a Cluster without one)."""
    found = c.mapping(c.spec_of(obj).get("topology")).get("version")
    return found if isinstance(found, str) else ""


def rolled_out(cluster_obj: Obj, *, control_planes: list[Obj], machine_deployments: list[Obj]) -> Status:
    """A topology Cluster's version rollout: every control plane and MachineDeployment at the topology's
    version and healthy, and one MachineDeployment per ``topology.workers.machineDeployments`` entry."""
    wanted = topology_version(cluster_obj)
    if not control_planes:
        return c.progressing("no control plane reported yet")
    for cp in control_planes:
        if _base(c.status_of(cp).get("version")) != _base(wanted):
            return c.progressing(f"control plane {_name(cp)} at {c.status_of(cp).get('version') or 'no version'}, "
                                 f"wants {wanted}")
        found = control_plane(cp)
        if found.health is not HEALTHY.health:
            return found
    workers = c.mapping(c.spec_of(cluster_obj).get("topology")).get("workers")
    expected = c.mapping(workers).get("machineDeployments")
    if isinstance(expected, list) and len(machine_deployments) < len(expected):
        return c.progressing(f"{len(machine_deployments)}/{len(expected)} MachineDeployments reported")
    for md in machine_deployments:
        template = c.mapping(c.mapping(c.spec_of(md).get("template")).get("spec")).get("version")
        if _base(template) != _base(wanted):
            return c.progressing(f"MachineDeployment {_name(md)} at {template or 'no version'}, wants {wanted}")
        found = machine_deployment(md)
        if found.health is not HEALTHY.health:
            return c.progressing(f"MachineDeployment {_name(md)}: {found.reason}")
    return HEALTHY


def _base(version: Any) -> str:
    """A version without build metadata (``v1.31.2+k0s.0`` is ``v1.31.2``)."""
    return str(version or "").split("+", 1)[0]


def _name(obj: Obj) -> str:
    return str(c.mapping(obj.get("metadata")).get("name", "?"))
