"""The Kubernetes API of one simulated cluster, independent of sockets: a ``Request`` in, a ``Response`` out.

``handle`` routes discovery, OpenAPI, and object requests (get, list, watch, create, update, patch,
apply, delete) to ``clusters.Cluster`` and turns every refusal into a ``kind: Status`` body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.objects import Obj
from reconciler.sim import bodies, discovery, openapis, routes, scales, selectors, statuses, watches
from reconciler.sim.clusters import Cluster, Write
from reconciler.sim.resources import ResourceType

JSON = "application/json"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1")


@dataclass
class Response:
    code: int
    body: Any
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None

    def payload(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body, separators=(",", ":")).encode()


def ok(body: Any, code: int = 200, content_type: str = JSON) -> Response:
    return Response(code, body, content_type)


def failure(error: statuses.ApiError) -> Response:
    return Response(error.code, error.to_status(), headers=dict(error.headers))


def verb_of(request: Request, route: routes.Route) -> str:
    """The Kubernetes verb of ``request``, as audit logs and request counters name it."""
    method = request.method
    if method == "GET":
        if route.kind != "object" or route.name:
            return "get"
        return "watch" if request.flag("watch") else "list"
    if method == "DELETE":
        return "delete" if route.name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def resource_of(route: routes.Route) -> str:
    if route.kind != "object":
        return route.kind
    return f"{route.plural}/{route.subresource}" if route.subresource else route.plural


def handle(cluster: Cluster, request: Request, *, stopping: Callable[[], bool]) -> Response:
    route = routes.parse(request.path)
    try:
        if route.kind == "object":
            return _object_request(cluster, request, route, stopping)
        return _discovery_request(cluster, request, route)
    except statuses.ApiError as error:
        return failure(error)


def _discovery_request(cluster: Cluster, request: Request, route: routes.Route) -> Response:
    if request.method != "GET":
        raise statuses.method_not_allowed(request.method, resource=request.path)
    registry, accept = cluster.registry, request.header("accept")
    if route.kind in ("api", "apis") and discovery.wants_aggregated(accept):
        doc = discovery.aggregated(registry, core=route.kind == "api", stale=cluster.faults.stale())
        return ok(doc, content_type=discovery.AGGREGATED_V2)
    documents: dict[str, Callable[[], Obj | None]] = {
        "version": lambda: discovery.VERSION,
        "api": discovery.api_versions,
        "apis": lambda: discovery.api_group_list(registry),
        "group": lambda: discovery.api_group(registry, route.group),
        "resources": lambda: discovery.api_resource_list(registry, route.group, route.version),
        "openapi": lambda: openapis.document(registry, route.rest),
        "root": lambda: {"paths": ["/api", "/api/v1", "/apis", "/openapi/v2", "/openapi/v3", "/version"]},
    }
    found = documents.get(route.kind, lambda: None)()
    if found is None:
        raise statuses.ApiError(404, "NotFound", "the server could not find the requested resource")
    return ok(found)


def _resource_type(cluster: Cluster, route: routes.Route) -> ResourceType:
    rt = cluster.registry.lookup(route.group, route.version, route.plural)
    if route.subresource == "scale" and rt is not None and scales.scalable(rt):
        return rt
    if rt is None or (route.subresource and (route.subresource != "status" or not rt.has_status)):
        raise statuses.ApiError(404, "NotFound", "the server could not find the requested resource")
    if route.namespace and not rt.namespaced:
        raise statuses.ApiError(404, "NotFound", "the server could not find the requested resource")
    return rt


def _object_request(cluster: Cluster, request: Request, route: routes.Route,
                    stopping: Callable[[], bool]) -> Response:
    rt = _resource_type(cluster, route)
    if route.subresource == "scale":
        return _scale(cluster, request, route, rt)
    verb = verb_of(request, route)
    handler = _VERBS.get(verb)
    if handler is None or (verb in ("create",) and route.name) or (verb in ("update", "patch") and not route.name):
        raise statuses.method_not_allowed(request.method, resource=rt.group_resource)
    if rt.namespaced and not route.namespace and verb not in ("list", "watch"):
        raise statuses.ApiError(404, "NotFound", "the server could not find the requested resource")
    return handler(cluster, request, route, rt, stopping)


def _scale(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType) -> Response:
    if request.method == "GET":
        return ok(scales.of(cluster.get(rt, route.namespace, route.name)))
    if request.method not in ("PUT", "PATCH"):
        raise statuses.method_not_allowed(request.method, resource=f"{rt.group_resource}/scale")
    if request.method == "PUT":
        body = bodies.decode_object(request.body, request.header("content-type"))
        change: Callable[[Obj], Obj] = lambda _: body  # noqa: E731 - a replacement is a constant change
    else:
        change = bodies.patcher(request.body, request.header("content-type"), type_name=None, schema=None)
    how = _write(request, routes.Route("object", rt.group, rt.version, rt.plural, route.namespace, route.name))
    return ok(scales.write(cluster, rt, namespace=route.namespace, name=route.name, change=change, how=how))


def _write(request: Request, route: routes.Route) -> Write:
    manager = request.query.get("fieldManager") or request.header("user-agent").split("/")[0] or "unknown"
    dry_run = request.query.get("dryRun", "")
    if dry_run not in ("", "All"):
        raise statuses.bad_request(f'unsupported dry run option "{dry_run}": only "All" is supported')
    return Write(manager=manager, dry_run=dry_run == "All",
                 validation=request.query.get("fieldValidation", "Warn") or "Warn", subresource=route.subresource)


def number(query: Mapping[str, str], name: str) -> int:
    """The non-negative integer query parameter ``name`` (0 when absent); 400 when it is not one."""
    text = query.get(name) or "0"
    if not text.isdigit():
        raise statuses.bad_request(f"invalid {name}: {text!r} is not a non-negative integer")
    return int(text)


def _get(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType, _: Any) -> Response:
    return ok(cluster.encoded(rt, cluster.get(rt, route.namespace, route.name)))


def _list(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType, _: Any) -> Response:
    q = request.query
    page = cluster.list(rt, route.namespace, label_selector=q.get("labelSelector", ""),
                        field_selector=q.get("fieldSelector", ""), limit=number(q, "limit"),
                        continue_token=q.get("continue", ""))
    meta: Obj = {"resourceVersion": page.resource_version}
    if page.continue_token:
        meta.update({"continue": page.continue_token, "remainingItemCount": page.remaining})
    head = json.dumps({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta}, separators=(",", ":"))
    items = b",".join(cluster.encoded(rt, obj) for obj in page.items)
    return ok(head[:-1].encode() + b',"items":[' + items + b"]}")


def _warned(response: Response, cluster: Cluster, body: Obj, how: Write) -> Response:
    """With ``fieldValidation=Warn`` (the default), unknown fields come back as ``Warning`` headers."""
    if how.validation == "Warn":
        unknown = cluster.managers.unknown_fields(body)
        if unknown:
            response.headers["Warning"] = ", ".join(f'299 - "unknown field \\"{f.lstrip(".")}\\""'
                                                    for f in unknown)
    return response


def _create(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType, _: Any) -> Response:
    body, how = bodies.decode_object(request.body, request.header("content-type")), _write(request, route)
    return _warned(ok(cluster.create(rt, route.namespace, body, how), 201), cluster, body, how)


def _update(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType, _: Any) -> Response:
    body, how = bodies.decode_object(request.body, request.header("content-type")), _write(request, route)
    return _warned(ok(cluster.replace(rt, route.namespace, route.name, body, how)), cluster, body, how)


def _patch(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType, _: Any) -> Response:
    content_type = request.header("content-type")
    how = _write(request, route)
    if bodies.media_type(content_type) == bodies.APPLY:
        if not request.query.get("fieldManager"):
            raise statuses.bad_request("PATCH, application/apply-patch+yaml: fieldManager must be set")
        config = bodies.decode_object(request.body, content_type)
        existed = cluster.find(rt, route.namespace, route.name) is not None
        obj = cluster.apply(rt, route.namespace, route.name, config, force=request.flag("force"), how=how)
        return _warned(ok(obj, 200 if existed else 201), cluster, config, how)
    if request.query.get("force"):
        raise statuses.bad_request("force is only allowed with server-side apply")
    change = bodies.patcher(request.body, content_type, type_name=cluster.type_name(rt),
                            schema=cluster.managers.schema)
    return ok(cluster.patch(rt, route.namespace, route.name, change, how))


def _delete(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType, _: Any) -> Response:
    options = bodies.decode_object(request.body, JSON) if request.body.strip() else {}
    if "propagationPolicy" in request.query:
        options["propagationPolicy"] = request.query["propagationPolicy"]
    how = _write(request, route)
    if "All" in (options.get("dryRun") or []):
        how = Write(manager=how.manager, dry_run=True)
    return ok(cluster.delete(rt, route.namespace, route.name, options, how))


def _delete_collection(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType,
                       _: Any) -> Response:
    page = cluster.list(rt, route.namespace, label_selector=request.query.get("labelSelector", ""),
                        field_selector=request.query.get("fieldSelector", ""))
    how = _write(request, route)
    gone = [cluster.delete(rt, o["metadata"].get("namespace", ""), o["metadata"]["name"], {}, how)
            for o in page.items]
    return ok({"kind": rt.list_kind, "apiVersion": rt.api_version,
               "metadata": {"resourceVersion": cluster.resource_version}, "items": gone})


def _watch(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType,
           stopping: Callable[[], bool]) -> Response:
    for name in ("resourceVersion", "timeoutSeconds"):
        number(request.query, name)  # refuse bad parameters before the stream starts
    selectors.labels(request.query.get("labelSelector"))
    selectors.fields(request.query.get("fieldSelector"))
    return Response(200, b"", headers={"Transfer-Encoding": "chunked"},
                    stream=watch_lines(cluster, request, route, rt, stopping))


def watch_lines(cluster: Cluster, request: Request, route: routes.Route, rt: ResourceType,
                stopping: Callable[[], bool]) -> Iterator[bytes]:
    """The body of a WATCH: one JSON event per line until the timeout or the server stops."""
    import time

    q = request.query
    page = cluster.list(rt, route.namespace, label_selector=q.get("labelSelector", ""),
                        field_selector=q.get("fieldSelector", ""))
    start = q.get("resourceVersion", "")
    if start and start != "0" and int(start) < cluster.events.oldest() - 1:
        yield _line("ERROR", statuses.gone(f"too old resource version: {start}").to_status())
        return
    if not start or start == "0" or request.flag("sendInitialEvents"):
        for obj in page.items:
            yield _line("ADDED", obj)
        start = page.resource_version
    if request.flag("sendInitialEvents"):
        yield _line("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
            "resourceVersion": start, "annotations": {"k8s.io/initial-events-end": "true"}}})
    deadline = time.monotonic() + (number(q, "timeoutSeconds") or 1800)
    match = _event_matcher(rt, route.namespace, page_filter=(q.get("labelSelector", ""), q.get("fieldSelector", "")))
    bookmarks = request.flag("allowWatchBookmarks")
    for item in watches.stream(cluster.events, since=int(start), match=match,
                               until=lambda: stopping() or time.monotonic() > deadline, bookmark_every=1.0):
        if isinstance(item, watches.Event):
            yield _line(item.type, item.object)
        elif bookmarks:
            yield _line("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version,
                                     "metadata": {"resourceVersion": str(item)}})
        else:
            yield b""  # a heartbeat: the server checks whether the client is still there


def _event_matcher(rt: ResourceType, namespace: str, *, page_filter: tuple[str, str]) -> Callable[[Any], bool]:
    labels, fields = selectors.labels(page_filter[0]), selectors.fields(page_filter[1])

    def match(event: watches.Event) -> bool:
        obj = event.object
        return (event.resource == (rt.group, rt.plural)
                and (not namespace or obj["metadata"].get("namespace") == namespace)
                and labels(obj) and fields(obj))

    return match


def _line(kind: str, obj: Obj) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


_VERBS: dict[str, Callable[..., Response]] = {
    "get": _get, "list": _list, "watch": _watch, "create": _create, "update": _update, "patch": _patch,
    "delete": _delete, "deletecollection": _delete_collection,
}
