"""The dashboard's pages: each handler makes one or two store reads and renders one template.

Handlers are plain functions (Starlette runs them in its thread pool, so store reads never block the
event loop). Templates are autoescaped; every value shown comes from the store, whose plan and drift
bodies are masked by the core and redacted on write.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from reconciler.core import plans as core_plans
from reconciler.core import stagegates
from reconciler.core.stagegates import UnitStatus
from reconciler.core.statuses import PrPlanState
from reconciler.errors import PlanError, StoreError
from reconciler.store.records import BundleRow, DriftRecord, PlanRecord
from reconciler.web import forms, links, matrices, rollouts, states
from reconciler.web.catalogs import ClusterEntry
from reconciler.web.services import Services

DRIFT_PAGE_LIMIT = 500
PLAN_LIST_LIMIT = 50


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    deps = services(request)
    common = {"refresh": deps.refresh_seconds, "now": deps.clock(), "links": links, "State": states.State,
              "unit_labels": stagegates.LABELS}
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, {**common, **context}, status_code=status
    )
    return response


def fleet(request: Request) -> Response:
    deps = services(request)
    label = request.query_params.get("label", "")
    state = states.parse(request.query_params.get("state", ""))
    catalog = deps.catalog()
    matrix = matrices.build(deps.store.dashboards.bundles(), catalog, selector=label, state=state,
                            units=deps.store.rollouts.units())
    return render(
        request, "fleet.html", matrix=matrix, catalog=catalog, label=label, state=state, labels=states.LABELS
    )


def cluster_rows(deps: Services, name: str) -> tuple[ClusterEntry | None, list[BundleRow]]:
    """The catalog entry of cluster ``name`` and the rows of the bundles applied to it or assigned to it
    (one narrowed dashboard query per destination); 404 when neither knows the name."""
    entry = deps.catalog().clusters.get(name)
    dests = sorted({name, *(entry.destinations if entry else ())})
    rows = [
        r
        for d in dests
        for r in deps.store.dashboards.bundles(cluster=d)
        if name in (r.cluster, r.bundle.cluster)
    ]
    if not rows and entry is None:
        raise HTTPException(404, f"no cluster named {name!r}")
    return entry, rows


def cluster_cells(deps: Services, name: str) -> tuple[ClusterEntry | None, list[matrices.Cell], list[UnitStatus]]:
    """Cluster ``name``'s bundles as cells (applied ones and assigned ones never applied, each with the
    state of its rollout unit), and its rollout units."""
    entry, rows = cluster_rows(deps, name)
    catalog, every = deps.catalog(), deps.store.rollouts.units()
    by_unit = {(u.cluster, u.assignment): u for u in every}
    cells = [matrices.cell_of(r.bundle.cluster, matrices.column_of(r), r, catalog, by_unit) for r in rows]
    applied = {(r.bundle.cluster, matrices.column_of(r)) for r in rows}
    never = sorted(column for cluster, column in catalog.groups if cluster == name and (name, column) not in applied)
    cells += [matrices.cell_of(name, column, None, catalog, by_unit) for column in never]
    return entry, [c for c in cells if c is not None], [u for u in every if u.cluster == name]


def cluster(request: Request) -> Response:
    deps = services(request)
    name = request.path_params["name"]
    entry, cells, units = cluster_cells(deps, name)
    return render(
        request,
        "cluster.html",
        name=name,
        entry=entry,
        cells=cells,
        units=units,
        running=matrices.running_versions([c.row for c in cells if c.row is not None and c.row.bundle.cluster == name],
                                          entry.stacks if entry else {}),
        csrf=forms.page_token(request),
        paused=any(c.paused for c in deps.store.clusters.all() if c.name == name),
        health={(h.cluster, h.bundle): h for h in deps.store.health.of_cluster(name)},
        drifts=[d for d in deps.store.drifts.open() if name in (d.cluster, d.bundle.cluster)],
        plans=deps.store.plans.recent(limit=10),
        steps=deps.store.runs.recent_steps(cluster=name, limit=30),
        events=deps.store.events.recent(cluster=name, limit=30),
        labels=states.LABELS,
    )


def drift_list(request: Request) -> Response:
    deps = services(request)
    wanted = request.query_params.get("cluster") or None
    records = deps.store.drifts.open(cluster=wanted)
    return render(
        request,
        "drift.html",
        records=records[:DRIFT_PAGE_LIMIT],
        total=len(records),
        cluster=wanted or "",
        missing=links.is_missing,
    )


def drift_entry(request: Request) -> Response:
    record = find_drift(request)
    return render(request, "drift_entry.html", record=record, missing=links.is_missing(record))


def find_drift(request: Request) -> DriftRecord:
    p, key = request.path_params, request.query_params.get("object", "")
    for record in services(request).store.drifts.open(cluster=p["cluster"]):
        b = record.bundle
        if (b.cluster, b.stack, b.bundle, record.object_key) == (p["owner"], p["stack"], p["bundle"], key):
            return record
    raise HTTPException(404, "no open drift for this object (it may have been resolved)")


REVIEW_STATES = {PrPlanState.PLANNED: "planned", PrPlanState.POSTED: "posted",
                 PrPlanState.APPLIED: "merged and applied", PrPlanState.SUPERSEDED: "superseded"}
"""How the Plans page names the state of a pull request's plan."""


def plan_list(request: Request) -> Response:
    records = services(request).store.plans.recent(limit=PLAN_LIST_LIMIT)
    summaries = {r.id: _summary(r) for r in records}
    reviews = services(request).store.pr_plans.recent(limit=PLAN_LIST_LIMIT)
    return render(request, "plans.html", records=records, summaries=summaries, reviews=reviews,
                  review_states=REVIEW_STATES)


def _summary(record: PlanRecord) -> dict[str, int]:
    try:
        return dict(json.loads(record.body).get("summary", {}).get("actions", {}))
    except (ValueError, AttributeError):
        return {}


def plan_detail(request: Request) -> Response:
    deps = services(request)
    plan_id = request.path_params["plan_id"]
    try:
        record = deps.store.plans.get(plan_id)
        plan = core_plans.from_json(record.body)
    except (StoreError, PlanError):
        raise HTTPException(404, f"no plan {plan_id!r}") from None
    wanted = request.query_params.get("cluster", "")
    changes = [c for c in plan.changes if not wanted or c.dest == wanted]
    unchanged = [c for c in changes if c.action is core_plans.Action.UNCHANGED]
    return render(request, "plan.html", record=record, plan=plan, cluster=wanted, unchanged=unchanged,
                  changes=[c for c in changes if c.action is not core_plans.Action.UNCHANGED],
                  held=sum(1 for c in plan.changes if c.needs_approval), csrf=forms.page_token(request))


def revisions(request: Request) -> Response:
    deps = services(request)
    history = {source: deps.store.revisions.history(source, limit=50) for source in deps.sources}
    plans_by_revision: dict[str, list[PlanRecord]] = {}
    for record in deps.store.plans.recent(limit=PLAN_LIST_LIMIT):
        plans_by_revision.setdefault(record.revision, []).append(record)
    return render(request, "revisions.html", history=history, plans_by_revision=plans_by_revision)


def events(request: Request) -> Response:
    return render(request, "events.html", events=services(request).store.events.recent(limit=200))


def rollout_view(deps: Services, assignment: str) -> rollouts.RolloutView:
    """The rollout of ``assignment`` (404 when the fleet has no such assignment and no unit of it)."""
    units = deps.store.rollouts.units(assignment=assignment)
    if assignment not in deps.catalog().stages and not units:
        raise HTTPException(404, f"no assignment named {assignment!r}")
    return rollouts.build(assignment, deps.catalog(), units=units, marks=deps.store.rollouts.marks(),
                          paused=assignment in deps.store.rollouts.paused(), events=deps.store.events.recent(limit=300))


def rollout(request: Request) -> Response:
    deps = services(request)
    view = rollout_view(deps, request.path_params["assignment"])
    return render(request, "rollout.html", view=view, csrf=forms.page_token(request))


def rollout_list(request: Request) -> Response:
    deps = services(request)
    names = sorted(deps.catalog().stages)
    views = [rollouts.build(n, deps.catalog(), units=deps.store.rollouts.units(assignment=n),
                            marks=deps.store.rollouts.marks(), paused=n in deps.store.rollouts.paused()) for n in names]
    return render(request, "rollouts.html", views=views)
