"""Kubernetes API paths taken apart: ``/apis/apps/v1/namespaces/web/deployments/api/status``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """A path under a cluster's base URL. ``kind`` says which family of endpoint it is."""

    kind: str  # "version" | "api" | "apis" | "group" | "resources" | "object" | "openapi" | "unknown"
    group: str = ""
    version: str = ""
    plural: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    rest: tuple[str, ...] = ()


def _resource_route(group: str, version: str, rest: list[str]) -> Route:
    if not rest:
        return Route("resources", group, version)
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    plural, name, sub = ([*rest, "", "", ""])[:3]
    if len(rest) > 3:
        return Route("unknown", rest=tuple(rest))
    return Route("object", group, version, plural, namespace, name, sub)


def parse(path: str) -> Route:
    """The route of ``path`` (already stripped of the cluster prefix and the query)."""
    segs = [s for s in path.split("/") if s]
    if not segs:
        return Route("root")
    head = segs[0]
    if head == "version" and len(segs) == 1:
        return Route("version")
    if head == "openapi":
        return Route("openapi", rest=tuple(segs[1:]))
    if head == "api":
        return Route("api") if len(segs) == 1 else _resource_route("", segs[1], segs[2:])
    if head == "apis":
        if len(segs) == 1:
            return Route("apis")
        if len(segs) == 2:
            return Route("group", segs[1])
        return _resource_route(segs[1], segs[2], segs[3:])
    return Route("unknown", rest=tuple(segs))
