"""The OpenAPI 3.1 document of ``/api/v1``, generated from the response models and the registered routes.

Each JSON body the API answers with has a pydantic model here (``ClusterList``, ``DriftList``, ...); the
JSON Schema of every model comes from pydantic (``models_json_schema``) into ``components.schemas``.
``document(routes)`` walks the routes actually mounted under ``/api/v1`` and describes each with its
entry in ``OPERATIONS`` (summary, scope, response model, query parameters); a route registered without
an entry is still listed, as "not documented", so the document never hides a route
(tests/web/test_openapi.py fails on one). The handlers build their bodies themselves; the tests check
real answers against these schemas, so the document says what the API really returns.

Served at ``GET /api/v1/openapi.json`` (any token, like every read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from reconciler import __version__
from reconciler.core.statuses import Outcome, PlanStatus, PrPlanState, Reachability, RevisionStatus, UnitState
from reconciler.web.states import State

PREFIX = "/api/v1"


class Body(BaseModel):
    """A JSON object of the API: camelCase names; more fields may be added (clients ignore them)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class BundleRef(Body):
    cluster: str
    stack: str
    bundle: str


class ClusterLine(Body):
    name: str
    labels: dict[str, str]
    state: State
    bundles: dict[str, int]
    """Bundles per state."""
    url: str


class ClusterList(Body):
    clusters: list[ClusterLine]


class Bundle(Body):
    cluster: str
    bundle: BundleRef
    state: State
    reachability: Reachability
    paused: bool
    revision: str
    objects: int
    open_drift: int
    outcome: Outcome | Literal[""]
    error: str
    updated_at: str | None


class Unit(Body):
    """A rollout unit: one cluster's share of one assignment (ADR 0022)."""

    cluster: str
    assignment: str
    stage: str
    state: UnitState
    reason: str
    until: str | None


class ClusterBundle(Bundle):
    health: str
    unit: Unit | None
    """The rollout unit the bundle belongs to, as the last apply run left it."""


class ChangedBy(Body):
    manager: str
    operation: str
    time: str | None


class DriftEntry(Body):
    cluster: str
    bundle: BundleRef
    object: str
    kind: Literal["missing", "modified"]
    changed_by: ChangedBy
    first_seen: str | None
    last_seen: str | None
    patch: list[dict[str, Any]]
    diff: str
    url: str


class ClusterDetail(Body):
    name: str
    labels: dict[str, str]
    stacks: dict[str, str]
    state: State
    bundles: list[ClusterBundle]
    """Applied bundles, and those assigned but never installed (revision "", objects 0)."""
    units: list[Unit]
    drift: list[DriftEntry]


class BundleList(Body):
    bundles: list[Bundle]


class DriftList(Body):
    count: int
    entries: list[DriftEntry]


class PlanSummary(Body):
    id: str
    revision: str
    status: PlanStatus
    created_at: str | None
    updated_at: str | None
    pr_number: int | None
    pr_branch: str | None
    url: str


class PlanList(Body):
    plans: list[PlanSummary]


class PlanDetail(PlanSummary):
    plan: dict[str, Any]
    """The plan artifact (``stackfleet plan --out``)."""


class PullRequestPlan(Body):
    id: str
    source: str
    number: int
    head_sha: str
    head: str
    base: str
    state: PrPlanState
    has_changes: bool
    content_hash: str
    plan: str
    """The plan's page."""
    note: str
    post_attempts: int
    post_error: str
    posted_at: str | None
    created_at: str


class PullRequestList(Body):
    pull_requests: list[PullRequestPlan]


class PullRequestPlanDetail(PullRequestPlan):
    plan: dict[str, Any]  # type: ignore[assignment]  # the detail carries the plan itself, not its link


class Revision(Body):
    revision: str
    status: RevisionStatus
    seen_at: str | None
    applied_at: str | None
    error: str
    forced: bool
    summary: str
    """For a person: ``partly applied: waiting for approval of platform-stable/prod-rest``."""
    subject: str
    """The commit's subject line."""
    author: str


class RevisionHistory(Body):
    sources: dict[str, list[Revision]]
    """The newest revisions of each source, newest first."""


class Event(Body):
    id: int
    at: str | None
    level: str
    reason: str
    message: str
    cluster: str
    bundle: str


class EventList(Body):
    events: list[Event]


class StageUnit(Body):
    cluster: str
    state: UnitState
    reason: str
    until: str | None


class RolloutStage(Body):
    name: str
    stage: str
    """``assignment/stage``."""
    approval: bool
    pause: str
    soak: str
    state: UnitState
    """The worst state of its units."""
    ready_since: str | None
    approved_by: str
    approved_at: str | None
    units: list[StageUnit]


class Rollout(Body):
    assignment: str
    paused: bool
    stages: list[RolloutStage]


class Approval(Body):
    stage: str
    approved_by: str
    approved_at: str | None


class PlanApproval(Body):
    plan: str
    revision: str
    approved_by: str


class AssignmentHold(Body):
    assignment: str
    paused: bool


class Retry(Body):
    assignment: str
    cluster: str
    retry: bool


class Healed(Body):
    cluster: str
    healed: int
    """Objects written."""


class PauseResult(Body):
    name: str
    paused: bool


class Error(Body):
    error: str


@dataclass(frozen=True)
class Operation:
    summary: str
    response: type[Body] | None
    """``None``: the OpenAPI document itself."""
    scope: Literal["read", "approve", "operate"] = "read"
    query: dict[str, str] = field(default_factory=dict)
    """Query parameter -> description (all optional strings)."""


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/clusters"): Operation("Every cluster with its labels, worst state and bundles per state.", ClusterList),
    ("GET", "/clusters/{name}"): Operation("One cluster: stacks, bundles (with health) and open drift.",
                                           ClusterDetail),
    ("POST", "/clusters/{name}/pause"): Operation("Pause a cluster's rollouts.", PauseResult, scope="operate"),
    ("POST", "/clusters/{name}/resume"): Operation("Resume a paused cluster.", PauseResult, scope="operate"),
    ("POST", "/clusters/{name}/heal"): Operation(
        "Re-apply a cluster's drifted objects, whatever selfHeal says (form fields bundle, object narrow it).",
        Healed, scope="operate"),
    ("POST", "/plans/{plan_id}/approve"): Operation(
        "Approve a daemon plan's held change set: runs of its revision apply the steps that need approval.",
        PlanApproval, scope="approve"),
    ("GET", "/assignments/{assignment}"): Operation("One assignment's rollout: its stages in order with their units.",
                                                    Rollout),
    ("POST", "/assignments/{assignment}/stages/{stage}/approve"): Operation(
        "Approve a stage for its next change (kept until used).", Approval, scope="approve"),
    ("POST", "/assignments/{assignment}/pause"): Operation("Hold every stage of an assignment.", AssignmentHold,
                                                           scope="operate"),
    ("POST", "/assignments/{assignment}/resume"): Operation("Release a held assignment.", AssignmentHold,
                                                            scope="operate"),
    ("POST", "/assignments/{assignment}/units/{cluster}/retry"): Operation(
        "Start a halted unit once in the next run, despite the spent failure budget.", Retry, scope="operate"),
    ("GET", "/bundles"): Operation("Every bundle of every cluster: state, reachability, outcome, drift.",
                                   BundleList),
    ("GET", "/drift"): Operation("Open drift entries: what changed, who changed it, when.", DriftList,
                                 query={"cluster": "Only drift on this cluster."}),
    ("GET", "/plans"): Operation("The newest plans (up to 100).", PlanList),
    ("GET", "/plans/{plan_id}"): Operation("One plan with its artifact.", PlanDetail),
    ("GET", "/pull-requests"): Operation("The newest pull-request plans (up to 100).", PullRequestList),
    ("GET", "/pull-requests/{number}/plan"): Operation(
        "The plan of a pull request's newest (or given) head; format=markdown for the comment's text.",
        PullRequestPlanDetail, query={"source": "The fleet source.", "sha": "The head commit.",
                                      "format": "json (default) or markdown."}),
    ("GET", "/revisions"): Operation("The newest revisions of each source (up to 100).", RevisionHistory),
    ("GET", "/events"): Operation("The newest events (up to 200).", EventList),
    ("GET", "/openapi.json"): Operation("This document.", None),
}
MODELS: tuple[type[Body], ...] = (*{op.response for op in OPERATIONS.values() if op.response is not None}, Error)


def registered(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """``(method, path)`` of every route mounted under ``/api/v1`` (HEAD left out: it follows GET)."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Mount) and route.path == PREFIX:
            for inner in route.routes:
                if isinstance(inner, Route):
                    found += [(m, inner.path) for m in sorted(inner.methods or {"GET"}) if m != "HEAD"]
    return found


def document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the ``/api/v1`` routes among ``routes``."""
    _, schemas = models_json_schema([(m, "serialization") for m in sorted(MODELS, key=lambda m: m.__name__)],
                                    by_alias=True, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for method, path in registered(routes):
        paths.setdefault(PREFIX + path, {})[method.lower()] = _operation(method, path)
    return {
        "openapi": "3.1.0",
        "info": {"title": "stackfleet API", "version": __version__,
                 "description": "The daemon's JSON API: the data of the dashboard, and the operations "
                                "of a rollout (approve, pause/resume, retry, heal)."},
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A read token; approvals need the approve scope, "
                                                          "the other writes the operate scope."}},
        },
        "security": [{"bearer": []}],
    }


def _operation(method: str, path: str) -> dict[str, Any]:
    known = OPERATIONS.get((method, path))
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)}", path)]
    if known is None:
        return {"summary": "not documented", "parameters": params,
                "responses": {"200": {"description": "A JSON body (no schema recorded for this route)."}}}
    params += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
               for name, text in known.query.items()]
    body: dict[str, Any] = ({"$ref": f"#/components/schemas/{known.response.__name__}"} if known.response
                            else {"type": "object", "description": "An OpenAPI 3.1 document."})
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses: dict[str, Any] = {"200": {"description": known.summary, "content": {"application/json": {"schema": body}}},
                                 "401": {"description": "No or an unknown token.", **error}}
    if known.scope != "read":
        responses["403"] = {"description": f"The token lacks the {known.scope} scope here, or a dashboard form its "
                                           "CSRF field.", **error}
    if params and any(p["in"] == "path" for p in params):
        responses["404"] = {"description": "No such object.", **error}
    return {"summary": known.summary, "operationId": _operation_id(method, path), "parameters": params,
            "responses": responses, "x-scope": known.scope}


def _operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[/{}\-._]+", path) if w]
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


def serve(request: Request) -> Response:
    """``GET /api/v1/openapi.json``."""
    return JSONResponse(document(request.app.routes))
