"""One cluster's API, the way stackfleet uses it: SSA apply (and dry-run), get, list by label, delete.

Every request takes a token from the cluster's own bucket (QPS and burst), then is retried per the
``RetryPolicy``: 429 waits ``Retry-After``, 5xx and connection errors back off with jitter, attempts are
bounded. Failures come out as the typed errors of ``reconciler.errors``:

- no answer, or 5xx/429 past the last attempt: ``ClusterUnreachable``;
- 401, and 403 from RBAC: ``ClusterAuthFailed`` (never retried);
- any other refusal of a write (400, 403 from admission, 404, 409, 422): ``ApplyError`` with the
  server's message; a 409 from an apply is an ``ApplyConflict`` that lists the conflicting fields.

``stats`` counts requests by verb (``apply``, ``dry-run``, ``get``, ``list``, ``delete``, ``discovery``).
Every attempt sent also counts into ``stackfleet_api_requests_total{cluster,verb,code}``, with the verb
as the API server's audit log names it (``get``, ``list``, ``patch``, ``delete``) and the HTTP status as
the code (``none`` when no answer came).
"""

from __future__ import annotations

import builtins
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import metrics
from reconciler.core.objects import CRD, FIELD_MANAGER, Obj, ObjectKey
from reconciler.errors import ApplyError, ClusterAuthFailed, ClusterError, ClusterUnreachable
from reconciler.kube import retries
from reconciler.kube.discovery import Discovery, Resource
from reconciler.kube.ratelimits import TokenBucket
from reconciler.kube.transports import APPLY_PATCH, ConnectionFailed, Request, Response, Transport

PAGE_SIZE = 500
KUBE_VERBS = {"apply": "patch", "dry-run": "patch", "discovery": "get"}
"""Our verbs that the API server names otherwise; the rest (get, list, create, update, delete) are the same."""


class WriteConflict(ApplyError):
    """A create found the name taken, or a replace found the object changed since it was read (HTTP 409):
    optimistic concurrency said no, as it does to every writer but one."""


class ApplyConflict(ApplyError):
    """An apply without force would take fields another field manager owns (HTTP 409)."""

    def __init__(self, message: str, *, causes: tuple[tuple[str, str], ...], **about: str | None) -> None:
        self.causes = causes
        """(field, message) pairs, e.g. ``(".spec.replicas", 'conflict with "kubectl-edit" using apps/v1')``."""
        super().__init__(message, **about)


@dataclass
class Client:
    """The API of cluster ``name`` over ``transport``."""

    name: str
    transport: Transport
    bucket: TokenBucket = field(default_factory=TokenBucket)
    retry: retries.RetryPolicy = field(default_factory=retries.RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    timeout: float = 30.0
    stats: Counter[str] = field(default_factory=Counter)
    fence: Callable[[], None] | None = None
    """Asked right before every write attempt goes out (after any wait for a token or a retry): raises
    ``ClusterError`` when the write must not happen (a replica that does not own the cluster now)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.discovery = Discovery(fetch=self._discover)

    # ---- reads -------------------------------------------------------------------------------

    def get(self, key: ObjectKey) -> Obj | None:
        """The live object, or None when absent or its kind is not served."""
        resource = self.discovery.preferred(key.group_kind)
        if resource is None:
            return None
        answer = self._send(Request("GET", resource.path(key.namespace, key.name)), verb="get", about=key)
        return None if answer.status == 404 else answer.json()

    def list(self, resource: Resource, *, selector: str, page_size: int = PAGE_SIZE,
             namespace: str = "") -> list[Obj]:
        """Every object of ``resource`` matching the label ``selector``, all pages, in ``namespace`` or in all."""
        items: list[Obj] = []
        token = ""
        while True:
            query = (("labelSelector", selector), ("limit", str(page_size)), *((("continue", token),) if token else ()))
            page = self._send(Request("GET", resource.path(namespace), query), verb="list").json()
            items += [_with_kind(o, resource) for o in page.get("items") or ()]
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return items

    def list_kind(self, group_kind: str, *, selector: str, namespace: str = "") -> builtins.list[Obj]:
        """``list`` for a ``Kind.group`` (nothing when the kind is not served)."""
        resource = self.discovery.preferred(group_kind)
        return self.list(resource, selector=selector, namespace=namespace) if resource is not None else []

    # ---- writes ------------------------------------------------------------------------------

    def apply(self, obj: Obj, *, dry_run: bool = False, force: bool = False) -> Obj:
        """Server-side apply ``obj`` with field manager ``stackfleet``; returns the object the server kept."""
        key = ObjectKey.of(obj)
        resource = self._resource_of(obj, key)
        query = [("fieldManager", FIELD_MANAGER)]
        query += [("dryRun", "All")] if dry_run else []
        query += [("force", "true")] if force else []
        request = Request("PATCH", resource.path(key.namespace, key.name), tuple(query), obj, APPLY_PATCH)
        kept: Obj = self._send(request, verb="dry-run" if dry_run else "apply", about=key).json()
        if key.group_kind == CRD and not dry_run:
            self.discovery.invalidate()  # the kinds it serves are looked up afresh
        return kept

    def create(self, obj: Obj) -> Obj | None:
        """POST ``obj`` (field manager ``stackfleet``); None when the name is taken (409 AlreadyExists)."""
        key = ObjectKey.of(obj)
        resource = self._resource_of(obj, key)
        request = Request("POST", resource.path(key.namespace), (("fieldManager", FIELD_MANAGER),), obj)
        try:
            created: Obj = self._send(request, verb="create", about=key).json()
        except WriteConflict:
            return None
        return created

    def replace(self, obj: Obj) -> Obj | None:
        """PUT ``obj``, its ``metadata.resourceVersion`` the precondition; None when the object changed since
        that version (409) or is gone (404). The compare-and-swap that Lease-based ownership rests on."""
        key = ObjectKey.of(obj)
        resource = self._resource_of(obj, key)
        request = Request("PUT", resource.path(key.namespace, key.name), (("fieldManager", FIELD_MANAGER),), obj)
        try:
            answer = self._send(request, verb="update", about=key)
        except WriteConflict:
            return None
        return None if answer.status == 404 else answer.json()

    def delete(self, key: ObjectKey, *, uid: str) -> bool:
        """DELETE with a uid precondition; False when the object was already gone."""
        resource = self.discovery.preferred(key.group_kind)
        if resource is None:
            return False
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid},
                "propagationPolicy": "Background"}
        answer = self._send(Request("DELETE", resource.path(key.namespace, key.name), body=body),
                            verb="delete", about=key)
        return answer.status != 404

    # ---- plumbing ----------------------------------------------------------------------------

    def _resource_of(self, obj: Obj, key: ObjectKey) -> Resource:
        resource = self.discovery.resource(str(obj.get("apiVersion", "")), key.kind)
        if resource is None:
            raise ApplyError(f"kind {key.group_kind} ({obj.get('apiVersion')}) is not served",
                             cluster=self.name, object=str(key))
        return resource

    def _discover(self, path: str, accept: str) -> Mapping[str, Any]:
        answer = self._send(Request("GET", path, accept=accept), verb="discovery")
        return answer.json() if answer.status == 200 else {}

    def _send(self, request: Request, *, verb: str, about: ObjectKey | None = None) -> Response:
        with self._lock:
            self.stats[verb] += 1
        attempt = 0
        while True:
            attempt += 1
            self.bucket.take()
            if self.fence is not None and _writes(request):
                self.fence()
            answer, retry_after = self._attempt(request, about)
            status = None if answer is None else answer.status
            self._count(verb, status)
            if answer is not None and (status in (200, 201, 202) or (status == 404 and request.method != "PATCH")):
                return answer
            if not self.retry.should_retry(attempt, status=status):
                raise self._error(request, answer, about, attempts=attempt)
            self.sleep(self.retry.delay(attempt, retry_after=retry_after))

    def _count(self, verb: str, status: int | None) -> None:
        code = "none" if status is None else str(status)
        metrics.API_REQUESTS.labels(cluster=self.name, verb=KUBE_VERBS.get(verb, verb), code=code).inc()

    def _attempt(self, request: Request, about: ObjectKey | None) -> tuple[Response | None, float | None]:
        try:
            answer = self.transport.send(request, timeout=self.timeout)
        except ConnectionFailed as exc:
            self._last_failure = str(exc)
            return None, None
        return answer, retries.parse_retry_after(_header(answer.headers, "Retry-After"))

    def _error(self, request: Request, answer: Response | None, about: ObjectKey | None,
               *, attempts: int) -> ClusterError:
        where = {"cluster": self.name, "object": str(about) if about else None}
        if answer is None:
            return ClusterUnreachable(f"no answer after {attempts} attempt(s): {self._last_failure}", **where)
        message = _message(answer)
        if answer.status in retries.RETRIED_STATUSES:
            return ClusterUnreachable(f"HTTP {answer.status} after {attempts} attempt(s): {message}",
                                      status=answer.status, **where)
        if answer.status == 401 or (answer.status == 403 and "admission webhook" not in message):
            return ClusterAuthFailed(f"HTTP {answer.status}: {message}", **where)
        if answer.status == 409 and request.content_type == APPLY_PATCH:
            return ApplyConflict(message, causes=_causes(answer), **where)
        if answer.status == 409:
            return WriteConflict(f"HTTP 409: {message}", **where)
        return ApplyError(f"HTTP {answer.status}: {message}", **where)


def _writes(request: Request) -> bool:
    return request.method in ("POST", "PUT", "PATCH", "DELETE") and ("dryRun", "All") not in request.query


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _status_of(answer: Response) -> Mapping[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _message(answer: Response) -> str:
    message = _status_of(answer).get("message")
    return str(message) if message else answer.body[:200].decode(errors="replace") or f"HTTP {answer.status}"


def _causes(answer: Response) -> tuple[tuple[str, str], ...]:
    causes = (_status_of(answer).get("details") or {}).get("causes") or ()
    return tuple((str(c.get("field", "")), str(c.get("message", ""))) for c in causes)


def _with_kind(obj: Obj, resource: Resource) -> Obj:
    """List items come without apiVersion/kind; put them back so ``ObjectKey.of`` works."""
    if "kind" not in obj:
        obj = {"apiVersion": resource.api_version, "kind": resource.kind, **obj}
    return obj
