"""Writes ``builtin.yaml``: the schema of the built-in kinds the sim serves.

Run ``python -m reconciler.sim.ssa.builtin_gen`` after changing the tables below. Field names and
types come from the model classes of the installed ``kubernetes`` client (``openapi_types`` and
``attribute_map``); the merge semantics (keyed lists, sets, atomic structs and maps, key
defaults) come from the tables here, written from the Kubernetes API's ``+listType``,
``+listMapKey``, ``+mapType``, ``+structType`` and ``patchMergeKey`` markers. Lists with no
entry are atomic, maps granular, structs granular.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

CORE = "io.k8s.api.core.v1"
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
TIME = f"{META}.Time"
ADMISSION = "admissionregistration.k8s.io/v1"
MICRO_TIME = f"{META}.MicroTime"

ROOTS: tuple[tuple[str, str, str, str], ...] = (
    ("v1", "Namespace", "V1Namespace", CORE),
    ("v1", "ConfigMap", "V1ConfigMap", CORE),
    ("v1", "Secret", "V1Secret", CORE),
    ("v1", "Service", "V1Service", CORE),
    ("v1", "ServiceAccount", "V1ServiceAccount", CORE),
    ("v1", "PersistentVolumeClaim", "V1PersistentVolumeClaim", CORE),
    ("v1", "Event", "CoreV1Event", CORE),
    ("v1", "Pod", "V1Pod", CORE),
    ("v1", "PodTemplate", "V1PodTemplate", CORE),
    ("apps/v1", "Deployment", "V1Deployment", "io.k8s.api.apps.v1"),
    ("apps/v1", "StatefulSet", "V1StatefulSet", "io.k8s.api.apps.v1"),
    ("apps/v1", "DaemonSet", "V1DaemonSet", "io.k8s.api.apps.v1"),
    ("apps/v1", "ReplicaSet", "V1ReplicaSet", "io.k8s.api.apps.v1"),
    ("batch/v1", "Job", "V1Job", "io.k8s.api.batch.v1"),
    ("batch/v1", "CronJob", "V1CronJob", "io.k8s.api.batch.v1"),
    ("rbac.authorization.k8s.io/v1", "Role", "V1Role", "io.k8s.api.rbac.v1"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "V1RoleBinding", "io.k8s.api.rbac.v1"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "V1ClusterRole", "io.k8s.api.rbac.v1"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "V1ClusterRoleBinding", "io.k8s.api.rbac.v1"),
    ("networking.k8s.io/v1", "Ingress", "V1Ingress", "io.k8s.api.networking.v1"),
    ("networking.k8s.io/v1", "NetworkPolicy", "V1NetworkPolicy", "io.k8s.api.networking.v1"),
    ("policy/v1", "PodDisruptionBudget", "V1PodDisruptionBudget", "io.k8s.api.policy.v1"),
    ("coordination.k8s.io/v1", "Lease", "V1Lease", "io.k8s.api.coordination.v1"),
    *(
        (ADMISSION, kind, f"V1{kind}", "io.k8s.api.admissionregistration.v1")
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
    ),
    ("apiregistration.k8s.io/v1", "APIService", "V1APIService", "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1"),
    (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "V1CustomResourceDefinition",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
    ),
)

META_TYPES = frozenset(
    {
        "ObjectMeta",
        "LabelSelector",
        "LabelSelectorRequirement",
        "OwnerReference",
        "ManagedFieldsEntry",
        "Condition",
    }
)
CORE_TYPES = frozenset(
    {
        "PodTemplateSpec",
        "PersistentVolumeClaim",
        "ObjectReference",
        "TypedLocalObjectReference",
        "LocalObjectReference",
    }
)

CONTAINER_LISTS: dict[str, tuple[str, ...]] = {
    "ports": ("containerPort", "protocol"),
    "env": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
}
"""Keyed lists of containers (and of ephemeral containers, which have the same fields)."""

KEYED_LISTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ObjectMeta", "ownerReferences"): ("uid",),
    ("PodSpec", "containers"): ("name",),
    ("PodSpec", "initContainers"): ("name",),
    ("PodSpec", "ephemeralContainers"): ("name",),
    ("PodSpec", "volumes"): ("name",),
    ("PodSpec", "imagePullSecrets"): ("name",),
    ("PodSpec", "hostAliases"): ("ip",),
    ("PodSpec", "topologySpreadConstraints"): ("topologyKey", "whenUnsatisfiable"),
    ("PodSpec", "resourceClaims"): ("name",),
    ("PodSpec", "schedulingGates"): ("name",),
    **{
        (owner, name): keys
        for owner in ("Container", "EphemeralContainer")
        for name, keys in CONTAINER_LISTS.items()
    },
    ("ResourceRequirements", "claims"): ("name",),
    ("ServiceSpec", "ports"): ("port", "protocol"),
    ("ServiceAccount", "secrets"): ("name",),
    ("PodStatus", "conditions"): ("type",),
    ("PodStatus", "podIPs"): ("ip",),
    ("PodStatus", "hostIPs"): ("ip",),
    ("ServiceStatus", "conditions"): ("type",),
    ("NamespaceStatus", "conditions"): ("type",),
    ("PersistentVolumeClaimStatus", "conditions"): ("type",),
    ("DeploymentStatus", "conditions"): ("type",),
    ("StatefulSetStatus", "conditions"): ("type",),
    ("DaemonSetStatus", "conditions"): ("type",),
    ("ReplicaSetStatus", "conditions"): ("type",),
    ("PodDisruptionBudgetStatus", "conditions"): ("type",),
    ("CustomResourceDefinitionStatus", "conditions"): ("type",),
    ("ValidatingWebhookConfiguration", "webhooks"): ("name",),
    ("MutatingWebhookConfiguration", "webhooks"): ("name",),
    ("ValidatingWebhook", "matchConditions"): ("name",),
    ("MutatingWebhook", "matchConditions"): ("name",),
    ("APIServiceStatus", "conditions"): ("type",),
}
"""``+listType=map`` lists (or ``patchMergeKey``): merged per item by these key fields."""

SETS: frozenset[tuple[str, str]] = frozenset({("ObjectMeta", "finalizers")})
"""``+listType=set`` lists: merged per value."""

KEY_DEFAULTS: dict[tuple[str, str], str] = {
    ("ContainerPort", "protocol"): "TCP",
    ("ServicePort", "protocol"): "TCP",
}
"""Defaults of key fields, used to key an item that omits them."""

ATOMIC_STRUCTS = frozenset(
    {
        "LabelSelector",
        "OwnerReference",
        "LocalObjectReference",
        "TypedLocalObjectReference",
        "ObjectReference",
        "ConfigMapKeySelector",
        "SecretKeySelector",
        "ObjectFieldSelector",
        "ResourceFieldSelector",
        "NodeSelector",
        "SecretReference",
        "RoleRef",
    }
)
"""``+structType=atomic``: owned and replaced as one leaf."""

NO_STATUS_SUBRESOURCE = frozenset({"NetworkPolicy"})
"""Kinds with a ``status`` field but no status subresource."""

ATOMIC_MAPS: frozenset[tuple[str, str]] = frozenset(
    {("PodSpec", "nodeSelector"), ("ServiceSpec", "selector")}
)
"""``+mapType=atomic``."""

_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)?V\d+(?:alpha\d+|beta\d+)?(?=[A-Z])")
_LIST = re.compile(r"^List\[(.+)\]$", re.IGNORECASE)
_DICT = re.compile(r"^Dict\(?\[?str, (.+?)\]?\)?$", re.IGNORECASE)
_SCALARS = {"str": "string", "bytes": "string", "int": "numeric", "float": "numeric", "bool": "boolean"}


def short_name(model: str) -> str:
    return _PREFIX.sub("", model)


class Generator:
    """Walks the model classes from the roots, naming each type once."""

    def __init__(self, models: Any) -> None:
        self.models = models
        self.names: dict[str, str] = {}
        self.types: dict[str, dict[str, Any]] = {}

    def name_of(self, model: str, package: str) -> str:
        if model not in self.names:
            short = short_name(model)
            home = META if short in META_TYPES else CORE if short in CORE_TYPES else package
            self.names[model] = f"{home}.{short}"
            self.types[self.names[model]] = {}
            self.types[self.names[model]] = self._struct(model, home)
        return self.names[model]

    def _struct(self, model: str, package: str) -> dict[str, Any]:
        cls = getattr(self.models, model)
        owner = short_name(model)
        fields = [
            self._field(owner, cls.attribute_map[attr], kind, package)
            for attr, kind in sorted(cls.openapi_types.items(), key=lambda item: cls.attribute_map[item[0]])
        ]
        shape: dict[str, Any] = {"fields": fields}
        if owner in ATOMIC_STRUCTS:
            shape["elementRelationship"] = "atomic"
        return {"map": shape}

    def _field(self, owner: str, name: str, kind: str, package: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, "type": self.ref(owner, name, kind, package)}
        if (owner, name) in KEY_DEFAULTS:
            out["default"] = KEY_DEFAULTS[(owner, name)]
        return out

    def ref(self, owner: str, name: str, kind: str, package: str) -> dict[str, Any]:
        if kind in _SCALARS:
            return {"scalar": _SCALARS[kind]}
        if kind == "datetime":
            return {"namedType": TIME}
        if kind == "object":
            return {"namedType": "__untyped_atomic_"}
        if match := _LIST.match(kind):
            return {"list": self._list(owner, name, match.group(1), package)}
        if match := _DICT.match(kind):
            return {"map": self._map(owner, name, match.group(1), package)}
        return {"namedType": self.name_of(kind, package)}

    def _list(self, owner: str, name: str, item: str, package: str) -> dict[str, Any]:
        shape: dict[str, Any] = {"elementType": self.ref(owner, name, item, package)}
        if (owner, name) in KEYED_LISTS:
            shape.update(elementRelationship="associative", keys=list(KEYED_LISTS[(owner, name)]))
        elif (owner, name) in SETS:
            shape["elementRelationship"] = "associative"
        else:
            shape["elementRelationship"] = "atomic"
        return shape

    def _map(self, owner: str, name: str, item: str, package: str) -> dict[str, Any]:
        shape: dict[str, Any] = {"elementType": self.ref(owner, name, item, package)}
        if (owner, name) in ATOMIC_MAPS:
            shape["elementRelationship"] = "atomic"
        return shape


def document(models: Any) -> dict[str, Any]:
    """The whole schema document: types sorted by name, then the kinds table."""
    generator = Generator(models)
    kinds = [_kind_row(generator, models, *root) for root in ROOTS]
    extra = [{"name": TIME, "scalar": "untyped"}, {"name": MICRO_TIME, "scalar": "untyped"}]
    types = [{"name": name, **generator.types[name]} for name in sorted(generator.types)]
    return {"types": types + extra, "kinds": kinds}


def _kind_row(
    generator: Generator, models: Any, api_version: str, kind: str, model: str, package: str
) -> dict[str, Any]:
    row: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "type": generator.name_of(model, package)}
    if "status" in getattr(models, model).openapi_types and kind not in NO_STATUS_SUBRESOURCE:
        row["statusSubresource"] = True
    return row


def _lines(doc: dict[str, Any]) -> Iterator[str]:
    yield "# Generated by `python -m reconciler.sim.ssa.builtin_gen` -- edit the tables there, not this file."
    yield yaml.safe_dump(doc, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> int:
    from kubernetes import client

    target = Path((argv or sys.argv[1:] or [str(Path(__file__).with_name("builtin.yaml"))])[0])
    target.write_text("\n".join(_lines(document(client))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
