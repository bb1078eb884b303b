"""The resource types a simulated cluster serves: built-in kinds plus those its CRDs add."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from reconciler.core.objects import Obj

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One served resource in one group version (``apps/v1 deployments``)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    has_status: bool = False
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _t(api_version: str, kind: str, plural: str, *, ns: bool = True, short: tuple[str, ...] = (),
       status: bool = False, categories: tuple[str, ...] = ()) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    return ResourceType(group, version, kind, plural, ns, short, status, categories)


_ALL = ("all",)
BUILTINS: tuple[ResourceType, ...] = (
    _t("v1", "Namespace", "namespaces", ns=False, short=("ns",), status=True),
    _t("v1", "ConfigMap", "configmaps", short=("cm",)),
    _t("v1", "Secret", "secrets"),
    _t("v1", "Service", "services", short=("svc",), status=True, categories=_ALL),
    _t("v1", "ServiceAccount", "serviceaccounts", short=("sa",)),
    _t("v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), status=True),
    _t("v1", "Pod", "pods", short=("po",), status=True, categories=_ALL),
    _t("v1", "Event", "events", short=("ev",)),
    _t("apps/v1", "Deployment", "deployments", short=("deploy",), status=True, categories=_ALL),
    _t("apps/v1", "StatefulSet", "statefulsets", short=("sts",), status=True, categories=_ALL),
    _t("apps/v1", "DaemonSet", "daemonsets", short=("ds",), status=True, categories=_ALL),
    _t("apps/v1", "ReplicaSet", "replicasets", short=("rs",), status=True, categories=_ALL),
    _t("batch/v1", "Job", "jobs", status=True, categories=_ALL),
    _t("batch/v1", "CronJob", "cronjobs", short=("cj",), status=True, categories=_ALL),
    _t("rbac.authorization.k8s.io/v1", "Role", "roles"),
    _t("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    _t("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", ns=False),
    _t("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", ns=False),
    _t("networking.k8s.io/v1", "Ingress", "ingresses", short=("ing",), status=True),
    _t("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    _t("networking.k8s.io/v1", "IngressClass", "ingressclasses", ns=False),
    _t("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",), status=True,
       categories=_ALL),
    _t("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",), status=True),
    _t("coordination.k8s.io/v1", "Lease", "leases"),
    _t("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
       ns=False),
    _t("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
       ns=False),
    _t("apiregistration.k8s.io/v1", "APIService", "apiservices", ns=False, status=True),
    _t("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", ns=False,
       short=("crd", "crds"), status=True),
)

CRD_PLURAL = "customresourcedefinitions"
CRD_GROUP = "apiextensions.k8s.io"


def from_crd(crd: Obj) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves, one per served version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    return [
        ResourceType(
            group=str(spec.get("group", "")),
            version=str(version["name"]),
            kind=str(names.get("kind", "")),
            plural=str(names.get("plural", "")),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            has_status="status" in (version.get("subresources") or {}),
            categories=tuple(names.get("categories") or ()),
        )
        for version in spec.get("versions") or []
        if version.get("served", True)
    ]


@dataclass
class Registry:
    """The served types of one cluster, found by URL (group, version, plural) or by apiVersion and kind."""

    _by_url: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _by_crd: dict[str, list[ResourceType]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def with_builtins(cls) -> Registry:
        registry = cls()
        for rt in BUILTINS:
            registry._by_url[(rt.group, rt.version, rt.plural)] = rt
        return registry

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_url.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        return next((rt for rt in self.types() if (rt.group, rt.version, rt.kind) == (group, version, kind)), None)

    def types(self) -> Iterator[ResourceType]:
        return iter(list(self._by_url.values()))

    def serve_crd(self, crd: Obj) -> None:
        name = str(crd["metadata"]["name"])
        with self._lock:
            self._drop(name)
            self._by_crd[name] = from_crd(crd)
            for rt in self._by_crd[name]:
                self._by_url[(rt.group, rt.version, rt.plural)] = rt

    def unserve_crd(self, name: str) -> None:
        with self._lock:
            self._drop(name)

    def _drop(self, name: str) -> None:
        for rt in self._by_crd.pop(name, []):
            self._by_url.pop((rt.group, rt.version, rt.plural), None)

    def group_versions(self) -> dict[str, list[str]]:
        """Every group with its versions, preferred (first served) first; the core group is ``""``."""
        groups: dict[str, list[str]] = {}
        for rt in self.types():
            versions = groups.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return groups
