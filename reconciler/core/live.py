"""The observed state of clusters, as data.

The kube layer observes each destination cluster (one label-selected LIST per kind for the objects we
own, plus a GET for each desired object not yet in the inventory) and hands the planner one
``LiveCluster`` per cluster. Nothing here talks to a cluster.

Usage from the observe side::

    live.LiveCluster.reachable("eu-prod-1", objects=listed, served=frozenset({"Deployment.apps", ...}))
    live.LiveCluster.unreachable("eu-prod-2", status=live.Reachability.AUTH_FAILED, reason="401 Unauthorized")

``served`` holds ``ObjectKey.group_kind`` strings (``"Deployment.apps"``, ``"ConfigMap"``) from discovery;
``None`` means discovery was not consulted and every kind counts as served. A kind that is not served
and whose CRD is not created earlier in the same plan is skipped by the planner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from reconciler.core.objects import Obj, ObjectKey


class Reachability(StrEnum):
    """Whether the planner could read a cluster; only ``REACHABLE`` clusters are ever pruned."""

    REACHABLE = "Reachable"
    UNREACHABLE = "Unreachable"
    AUTH_FAILED = "AuthFailed"


@dataclass(frozen=True)
class LiveCluster:
    """One cluster as observed: reachability, the live objects (full JSON) and the served kinds."""

    name: str
    status: Reachability = Reachability.REACHABLE
    reason: str = ""
    objects: Mapping[ObjectKey, Obj] = field(default_factory=lambda: MappingProxyType({}))
    served: frozenset[str] | None = None

    @classmethod
    def reachable(
        cls, name: str, *, objects: Iterable[Obj], served: frozenset[str] | None = None
    ) -> LiveCluster:
        by_key = {ObjectKey.of(obj): obj for obj in objects}
        return cls(name=name, objects=MappingProxyType(by_key), served=served)

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

    def serves(self, group_kind: str) -> bool:
        return self.served is None or group_kind in self.served


def unobserved(name: str) -> LiveCluster:
    """A cluster the observer never reported: treated as unreachable, so nothing there is pruned."""
    return LiveCluster.unreachable(name, reason="not observed")


def uid_of(obj: Obj | None) -> str | None:
    return None if obj is None else (obj.get("metadata") or {}).get("uid")


def resource_version_of(obj: Obj | None) -> str | None:
    return None if obj is None else (obj.get("metadata") or {}).get("resourceVersion")
