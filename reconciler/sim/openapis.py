"""OpenAPI v2 and v3 documents, as far as kubectl and the Python client read them.

kubectl reads ``/openapi/v3`` to learn whether the server supports ``fieldValidation`` (it looks for
the parameter on each resource's PATCH operation) and which kind each schema is. The schemas here
are open objects: the simulator validates on the server, not through the documents.
"""

from __future__ import annotations

import hashlib
import json

from reconciler.core.objects import Obj
from reconciler.sim.resources import Registry, ResourceType

_PARAMS = ["dryRun", "fieldManager", "fieldValidation", "force"]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(rt: ResourceType) -> str:
    group = ".".join(reversed(rt.group.split("."))) if rt.group else "core"
    return f"io.k8s.api.{group}.{rt.version}.{rt.kind}"


def _gvk(rt: ResourceType) -> list[Obj]:
    return [{"group": rt.group, "version": rt.version, "kind": rt.kind}]


def _operation(rt: ResourceType, action: str) -> Obj:
    return {
        "operationId": f"{action}{rt.kind}",
        "parameters": [{"name": p, "in": "query", "schema": {"type": "string"}} for p in _PARAMS],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
            "$ref": f"#/components/schemas/{_schema_name(rt)}"}}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(rt)[0],
    }


def _paths(rt: ResourceType) -> dict[str, Obj]:
    base = f"/{_gv_path(rt.group, rt.version)}"
    prefix = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    return {
        prefix: {"get": _operation(rt, "list"), "post": _operation(rt, "post")},
        f"{prefix}/{{name}}": {a: _operation(rt, x) for a, x in
                               (("get", "get"), ("put", "put"), ("patch", "patch"), ("delete", "delete"))},
    }


def _schema(rt: ResourceType) -> Obj:
    return {"type": "object", "x-kubernetes-group-version-kind": _gvk(rt),
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                           "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}


def v3_group_version(registry: Registry, group: str, version: str) -> Obj | None:
    types = [rt for rt in registry.types() if (rt.group, rt.version) == (group, version)]
    if not types:
        return None
    paths: dict[str, Obj] = {}
    for rt in types:
        paths.update(_paths(rt))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.37.0-sim"}, "paths": paths,
            "components": {"schemas": {_schema_name(rt): _schema(rt) for rt in types}}}


def v3_index(registry: Registry) -> Obj:
    paths = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            doc = json.dumps(v3_group_version(registry, group, version), sort_keys=True).encode()
            digest = hashlib.sha256(doc).hexdigest()[:32].upper()
            paths[_gv_path(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}?hash={digest}"}
    return {"paths": paths}


def v2(registry: Registry) -> Obj:
    definitions = {_schema_name(rt): {"type": "object", "x-kubernetes-group-version-kind": _gvk(rt)}
                   for rt in registry.types()}
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.37.0-sim"}, "paths": {},
            "definitions": definitions}


def document(registry: Registry, rest: tuple[str, ...]) -> Obj | None:
    """The OpenAPI document at ``/openapi/<rest>``, or None."""
    if rest == ("v2",):
        return v2(registry)
    if rest == ("v3",):
        return v3_index(registry)
    if len(rest) == 3 and rest[:2] == ("v3", "api"):
        return v3_group_version(registry, "", rest[2])
    if len(rest) == 4 and rest[:2] == ("v3", "apis"):
        return v3_group_version(registry, rest[2], rest[3])
    return None
