"""Discovery documents: the legacy ``/api`` and ``/apis`` trees and aggregated discovery (apidiscovery.k8s.io/v2).

kubectl 1.37 asks ``/api`` and ``/apis`` for ``application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList``
first; a server answering that gets no further discovery requests. Clients that ask for plain JSON
(the Python client) get the legacy documents.
"""

from __future__ import annotations

from reconciler.core.objects import Obj
from reconciler.sim.resources import Registry, ResourceType

SCALABLE = {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets")}

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
VERSION: Obj = {
    "major": "1", "minor": "37", "gitVersion": "v1.37.0-sim", "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25", "compiler": "gc",
    "platform": "linux/amd64",
}


def wants_aggregated(accept: str) -> bool:
    """True when the Accept header lists aggregated discovery v2 before (or without) plain JSON."""
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")}
        if {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params:
            return True
        if part.strip().split(";")[0] in ("application/json", "*/*") and len(params) == 1:
            return False
    return False


def _group_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def api_versions() -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}


def _group_entry(group: str, versions: list[str]) -> Obj:
    listed = [{"groupVersion": _group_version(group, v), "version": v} for v in versions]
    return {"name": group, "versions": listed, "preferredVersion": listed[0]}


def api_group_list(registry: Registry) -> Obj:
    groups = [_group_entry(g, vs) for g, vs in registry.group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> Obj | None:
    versions = registry.group_versions().get(group)
    if not versions or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def _resource_entries(rt: ResourceType) -> list[Obj]:
    main = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
            "verbs": list(rt.verbs)}
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    entries = [main]
    if rt.has_status:
        entries.append({"name": f"{rt.plural}/status", "singularName": "", "namespaced": rt.namespaced,
                        "kind": rt.kind, "verbs": ["get", "patch", "update"]})
    if (rt.group, rt.plural) in SCALABLE:
        entries.append({"name": f"{rt.plural}/scale", "singularName": "", "namespaced": rt.namespaced,
                        "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
    return entries


def api_resource_list(registry: Registry, group: str, version: str) -> Obj | None:
    types = [rt for rt in registry.types() if (rt.group, rt.version) == (group, version)]
    if not types:
        return None
    resources = [entry for rt in sorted(types, key=lambda t: t.plural) for entry in _resource_entries(rt)]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": _group_version(group, version),
            "resources": resources}


def _aggregated_resource(rt: ResourceType) -> Obj:
    kind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    entry: Obj = {"resource": rt.plural, "responseKind": kind, "scope": "Namespaced" if rt.namespaced else "Cluster",
                  "singularResource": rt.singular, "verbs": list(rt.verbs)}
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subresources = []
    if rt.has_status:
        subresources.append({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]})
    if (rt.group, rt.plural) in SCALABLE:
        subresources.append({"subresource": "scale", "verbs": ["get", "patch", "update"],
                             "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}})
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(registry: Registry, *, core: bool, stale: frozenset[str] = frozenset()) -> Obj:
    """The APIGroupDiscoveryList for ``/api`` (``core``) or ``/apis``; the versions of ``stale`` groups
    say ``freshness: Stale``, as kube-apiserver marks a group whose APIService it could not refresh."""
    items = []
    for group, versions in registry.group_versions().items():
        if (group == "") != core:
            continue
        listed = []
        for version in versions:
            types = sorted((rt for rt in registry.types() if (rt.group, rt.version) == (group, version)),
                           key=lambda t: t.plural)
            listed.append({"version": version, "resources": [_aggregated_resource(rt) for rt in types],
                           "freshness": "Stale" if group in stale else "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": listed})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}
