"""Per-cluster cached discovery: which resource serves a kind, whether it is namespaced, its verbs.

One ``Discovery`` per cluster reads aggregated discovery (``/api`` and ``/apis``, two requests) the
first time it is asked, and again on a miss (a kind it does not know, say right after its CRD was
created), at most once per ``min_refresh`` seconds so a truly unknown kind cannot cause a storm.

A group whose versions aggregated discovery marks ``freshness: Stale`` (its APIService could not be
refreshed, KEP-3352) is not served: ``unknown()`` names it with the reason, and the planner creates
and prunes nothing of its kinds until it is Current again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
Fetch = Callable[[str, str], Mapping[str, Any]]
"""``fetch(path, accept)`` -> the JSON answer of one discovery request."""


@dataclass(frozen=True)
class Resource:
    """A served resource: ``/apis/<group>/<version>[/namespaces/<ns>]/<plural>``."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str] = frozenset()

    @property
    def group_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "", name: str = "") -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        scope = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        tail = f"/{name}" if name else ""
        return f"{root}{scope}/{self.plural}{tail}"


@dataclass
class Discovery:
    """Discovery of one cluster, cached; ``fetch`` performs the requests."""

    fetch: Fetch
    clock: Callable[[], float] = time.monotonic
    min_refresh: float = 1.0
    _by_version: dict[tuple[str, str, str], Resource] = field(default_factory=dict)
    _preferred: dict[str, Resource] = field(default_factory=dict)
    _stale: dict[str, str] = field(default_factory=dict)
    _loaded_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def resource(self, api_version: str, kind: str) -> Resource | None:
        """The resource serving ``kind`` at ``api_version``, refreshing once on a miss."""
        group, _, version = api_version.rpartition("/")
        return self._lookup(lambda: self._by_version.get((group, version, kind)))

    def preferred(self, group_kind: str) -> Resource | None:
        """The preferred version's resource for ``Kind.group`` (``ObjectKey.group_kind``)."""
        return self._lookup(lambda: self._preferred.get(group_kind))

    def served(self, *, wanted: Iterable[str] = ()) -> frozenset[str]:
        """Every served group kind (``ObjectKey.group_kind`` strings), read again on a miss of a ``wanted``
        kind (a CRD someone else created since), at most once per ``min_refresh``."""
        with self._lock:
            self._load_if_needed(force=False)
            if not set(wanted) <= self._preferred.keys():
                self._load_if_needed(force=True)
            return frozenset(self._preferred)

    def unknown(self) -> dict[str, str]:
        """Groups discovery could not vouch for (``Stale``), with the reason, as last read."""
        with self._lock:
            return dict(self._stale)

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = None

    def _lookup(self, find: Callable[[], Resource | None]) -> Resource | None:
        with self._lock:
            self._load_if_needed(force=False)
            found = find()
            if found is None and self._load_if_needed(force=True):
                found = find()
            return found

    def _load_if_needed(self, *, force: bool) -> bool:
        now = self.clock()
        if self._loaded_at is not None and not force:
            return False
        if self._loaded_at is not None and now - self._loaded_at < self.min_refresh:
            return False
        groups = [*self.fetch("/api", AGGREGATED).get("items", ()), *self.fetch("/apis", AGGREGATED).get("items", ())]
        self._index(groups)
        self._loaded_at = now
        return True

    def _index(self, groups: Iterable[Mapping[str, Any]]) -> None:
        by_version: dict[tuple[str, str, str], Resource] = {}
        preferred: dict[str, Resource] = {}
        stale: dict[str, str] = {}
        for group in groups:
            name = str((group.get("metadata") or {}).get("name", ""))
            if any(v.get("freshness") == "Stale" for v in group.get("versions") or ()):
                stale[name] = "marked Stale in aggregated discovery"
                continue
            for resource in resources_of(group):
                by_version.setdefault((resource.group, resource.version, resource.kind), resource)
                preferred.setdefault(resource.group_kind, resource)  # versions come in preference order
        self._by_version, self._preferred, self._stale = by_version, preferred, stale


def resources_of(group: Mapping[str, Any]) -> list[Resource]:
    """The resources of one ``APIGroupDiscovery`` item (subresources left out)."""
    name = str((group.get("metadata") or {}).get("name", ""))
    found: list[Resource] = []
    for version in group.get("versions") or ():
        for entry in version.get("resources") or ():
            kind = (entry.get("responseKind") or {}).get("kind")
            if not kind:
                continue
            found.append(Resource(group=name, version=str(version.get("version")), kind=str(kind),
                                  plural=str(entry.get("resource")), namespaced=entry.get("scope") == "Namespaced",
                                  verbs=frozenset(entry.get("verbs") or ())))
    return found
