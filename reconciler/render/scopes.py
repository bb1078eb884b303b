"""Which kinds are cluster-scoped, and the rank of a kind in the output order.

Built-in cluster-scoped kinds are listed by group; custom kinds are cluster-scoped when a
CustomResourceDefinition in the same render declares ``scope: Cluster``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("node.k8s.io", "RuntimeClass"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
    }
)

_RANKS: tuple[tuple[str, ...], ...] = (
    ("CustomResourceDefinition",),
    ("Namespace",),
    ("PriorityClass", "StorageClass", "IngressClass", "RuntimeClass"),
    ("ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"),
    ("NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget"),
    ("Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim"),
    ("Service",),
    ("DaemonSet", "Deployment", "StatefulSet", "ReplicaSet", "Pod", "Job", "CronJob"),
    ("HorizontalPodAutoscaler", "Ingress", "APIService"),
    ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
)
KIND_RANK: Mapping[str, int] = {kind: i for i, kinds in enumerate(_RANKS) for kind in kinds}
CUSTOM_RANK = len(_RANKS)
"""Kinds not in the table (custom resources) come last: their CRDs and controllers go first."""


def group_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("apiVersion", "")).rpartition("/")[0]


def is_cluster_scoped(obj: Mapping[str, Any], *, custom: Collection[tuple[str, str]] = frozenset()) -> bool:
    key = (group_of(obj), str(obj.get("kind", "")))
    return key in CLUSTER_SCOPED or key in custom


def declared_cluster_scoped(objects: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """``(group, kind)`` of every custom kind whose CRD in ``objects`` says ``scope: Cluster``."""
    out: set[tuple[str, str]] = set()
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition" or group_of(obj) != "apiextensions.k8s.io":
            continue
        spec = obj.get("spec") or {}
        if spec.get("scope") == "Cluster":
            out.add((str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))))
    return out


def kind_rank(obj: Mapping[str, Any]) -> int:
    return KIND_RANK.get(str(obj.get("kind", "")), CUSTOM_RANK)
