"""What people do through ``/api/v1`` and the dashboard's forms (ADR 0022): approve a stage, pause or
resume an assignment, retry a halted unit, heal a drifted bundle or object.

Each needs a scope (``access.Scope``: approve, or operate) for what it touches, is recorded as an event
naming the token, and asks the daemon to reconcile soon (``Services.operator``), so an approval is
applied within seconds rather than at the next periodic run. Without an operator (the app served on
its own) the store is changed and the next reconcile acts on it.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from reconciler.core.statuses import PlanStatus
from reconciler.errors import StoreError
from reconciler.web import forms, guards, pages
from reconciler.web.access import Scope


async def approve_stage(request: Request) -> Response:
    form = await forms.fields(request)
    assignment, stage = request.path_params["assignment"], request.path_params["stage"]
    _known_stage(request, assignment, stage)
    who = guards.require(request, Scope.APPROVE)
    deps = pages.services(request)
    mark = deps.store.rollouts.approve(f"{assignment}/{stage}", by=who.name)
    deps.store.events.add("StageApproved", f"stage {assignment}/{stage} approved by {who.name}")
    _kick(request)
    when = mark.approved_at.isoformat() if mark.approved_at else None
    return forms.answer(request, form, {"stage": f"{assignment}/{stage}", "approvedBy": who.name, "approvedAt": when})


async def approve_plan(request: Request) -> Response:
    """Approve the held change set of a daemon plan: the daemon's runs of its revision apply the steps
    that need approval."""
    form = await forms.fields(request)
    plan_id = request.path_params["plan_id"]
    who = guards.require(request, Scope.APPROVE)
    deps = pages.services(request)
    try:
        record = deps.store.plans.get(plan_id)
    except StoreError:
        raise HTTPException(404, f"no plan {plan_id!r}") from None
    if record.pr_number is not None:
        raise HTTPException(409, "a pull request's plan is applied by its merge, not approved here")
    deps.store.plans.set_status(plan_id, PlanStatus.APPROVED)
    deps.store.events.add("ChangeSetApproved", f"plan {plan_id} of {record.revision}: held steps approved by {who.name}")
    _kick(request)
    return forms.answer(request, form, {"plan": plan_id, "revision": record.revision, "approvedBy": who.name})


async def pause_assignment(request: Request) -> Response:
    return await _hold(request, paused=True)


async def resume_assignment(request: Request) -> Response:
    return await _hold(request, paused=False)


async def _hold(request: Request, *, paused: bool) -> Response:
    form = await forms.fields(request)
    assignment = request.path_params["assignment"]
    _known_assignment(request, assignment)
    who = guards.require(request, Scope.OPERATE)
    deps = pages.services(request)
    deps.store.rollouts.set_paused(assignment, paused=paused, by=who.name)
    verb = "paused" if paused else "resumed"
    deps.store.events.add("AssignmentPaused" if paused else "AssignmentResumed", f"assignment {assignment} {verb} by {who.name}")
    _kick(request)
    return forms.answer(request, form, {"assignment": assignment, "paused": paused})


async def retry_unit(request: Request) -> Response:
    form = await forms.fields(request)
    assignment, cluster = request.path_params["assignment"], request.path_params["cluster"]
    _known_assignment(request, assignment)
    who = guards.require(request, Scope.OPERATE, cluster=cluster)
    deps = pages.services(request)
    deps.store.rollouts.retry(cluster, assignment, by=who.name)
    deps.store.events.add("UnitRetried", f"{assignment} on {cluster}: retry asked by {who.name}", cluster=cluster)
    _kick(request)
    return forms.answer(request, form, {"assignment": assignment, "cluster": cluster, "retry": True})


async def heal(request: Request) -> Response:
    """Re-apply the drifted objects of a cluster (``bundle=stack/bundle`` and ``object=<key>`` narrow it)."""
    form = await forms.fields(request)
    cluster = request.path_params["name"]
    who = guards.require(request, Scope.OPERATE, cluster=cluster)
    deps = pages.services(request)
    bundle, key = form.get("bundle") or None, form.get("object") or None
    drifted = [d for d in deps.store.drifts.open() if cluster in (d.cluster, d.bundle.cluster)
               and bundle in (None, f"{d.bundle.stack}/{d.bundle.bundle}") and key in (None, d.object_key)]
    if not drifted:
        raise HTTPException(404, "no open drift to heal there")
    if deps.operator is None:
        raise HTTPException(503, "healing needs the daemon (this app has no operator)")
    wanted = [(d.cluster, d.bundle, d.object_key) for d in drifted]
    healed = await run_in_threadpool(deps.operator.heal, wanted, by=who.name)  # recorded as a Healed event
    return forms.answer(request, form, {"cluster": cluster, "healed": healed})


def _kick(request: Request) -> None:
    operator = pages.services(request).operator
    if operator is not None:
        operator.reconcile_soon()


def _known_assignment(request: Request, assignment: str) -> None:
    if assignment not in pages.services(request).catalog().stages:
        raise HTTPException(404, f"no assignment named {assignment!r}")


def _known_stage(request: Request, assignment: str, stage: str) -> None:
    _known_assignment(request, assignment)
    if stage not in pages.services(request).catalog().stage_names(assignment):
        raise HTTPException(404, f"assignment {assignment!r} has no stage {stage!r}")
