"""The observed state of clusters, as data.

The kube layer observes each destination cluster and hands the planner one ``LiveCluster`` per
cluster. Nothing here talks to a cluster.

What ``objects`` must hold (the planner cannot tell "not observed" from "gone"): every live object
that carries our labels (one label-selected LIST per kind), plus a GET for each key named by the
desired state or the inventory that the LIST did not return. An object whose labels someone removed
drops out of the LIST; without the GET the planner would plan it as a create (and SSA would take it
over) or forget it from the inventory instead of reporting it "not owned". Objects are full JSON,
including ``metadata.uid``, ``resourceVersion`` and ``managedFields`` (the diff reads them).

Usage from the observe side::

    live.LiveCluster.reachable("eu-prod-1", objects=listed_and_got, served=frozenset({"Deployment.apps", ...}))
    live.LiveCluster.unreachable("eu-prod-2", status=statuses.Reachability.AUTH_FAILED, reason="401 Unauthorized")

``served`` holds ``ObjectKey.group_kind`` strings (``"Deployment.apps"``, ``"ConfigMap"``) from discovery;
``None`` means discovery was not consulted and every kind counts as served. A kind that is not served
and whose CRD is not created earlier in the same plan is skipped by the planner. A cluster missing
from the planner's ``live`` mapping counts as unreachable ("not observed").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.statuses import Reachability


@dataclass(frozen=True)
class LiveCluster:
    """One cluster as observed: reachability, the live objects (full JSON) and the served kinds."""

    name: str
    status: Reachability = Reachability.REACHABLE
    reason: str = ""
    objects: Mapping[ObjectKey, Obj] = field(default_factory=lambda: MappingProxyType({}))
    served: frozenset[str] | None = None
    unknown_groups: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """API groups whose kinds could not be read (discovery Stale, or their requests failed), with why:
    nothing of them is created or pruned, the rest of the cluster proceeds."""

    @classmethod
    def reachable(
        cls, name: str, *, objects: Iterable[Obj], served: frozenset[str] | None = None,
        unknown_groups: Mapping[str, str] | None = None,
    ) -> LiveCluster:
        by_key = {ObjectKey.of(obj): obj for obj in objects}
        return cls(name=name, objects=MappingProxyType(by_key), served=served,
                   unknown_groups=MappingProxyType(dict(unknown_groups or {})))

    @classmethod
    def unreachable(
        cls, name: str, *, reason: str, status: Reachability = Reachability.UNREACHABLE
    ) -> LiveCluster:
        return cls(name=name, status=status, reason=reason)

    @property
    def is_reachable(self) -> bool:
        return self.status is Reachability.REACHABLE

    def get(self, key: ObjectKey) -> Obj | None:
        return self.objects.get(key)

    def unknown(self, key: ObjectKey) -> str:
        """Why ``key``'s kind cannot be judged here (its group is unknown), or ``""``."""
        why = self.unknown_groups.get(key.group) if key.group else None
        return f"kinds of API group {key.group} are unknown on {self.name}: {why}" if why else ""

    def serves(self, group_kind: str) -> bool:
        return self.served is None or group_kind in self.served


def unobserved(name: str) -> LiveCluster:
    """A cluster the observer never reported: treated as unreachable, so nothing there is pruned."""
    return LiveCluster.unreachable(name, reason="not observed")


def uid_of(obj: Obj | None) -> str | None:
    return None if obj is None else (obj.get("metadata") or {}).get("uid")


def resource_version_of(obj: Obj | None) -> str | None:
    return None if obj is None else (obj.get("metadata") or {}).get("resourceVersion")
