"""The JSON API under ``/api/v1``: the same data as the pages, for scripts and the daemon's tests.

Reads need any token; ``POST /api/v1/clusters/<name>/pause`` and ``.../resume`` need the ``operate``
scope on that cluster (``guards.require``) and answer 404 for a cluster neither the fleet nor the store
knows. Events name the token that acted.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.core import inventory
from reconciler.core.stagegates import UnitStatus
from reconciler.errors import StoreError
from reconciler.store.records import BundleRow, DriftRecord, EventRecord, PlanRecord, RevisionRecord
from reconciler.web import forms, guards, links, matrices, pages, rollouts, states
from reconciler.web.access import Scope


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def bundle_json(row: BundleRow) -> dict[str, Any]:
    return {
        "cluster": row.cluster,
        "bundle": inventory.bundle_to_dict(row.bundle),
        "state": states.of(row).value,
        "reachability": row.reachability.value,
        "paused": row.paused,
        "revision": row.revision,
        "objects": row.objects,
        "openDrift": row.open_drift,
        "outcome": row.outcome.value if row.outcome else "",
        "error": row.error,
        "updatedAt": _time(row.updated_at),
    }


def drift_json(record: DriftRecord) -> dict[str, Any]:
    return {
        "cluster": record.cluster,
        "bundle": inventory.bundle_to_dict(record.bundle),
        "object": record.object_key,
        "kind": record.kind.value,
        "changedBy": {
            "manager": record.who.manager,
            "operation": record.who.operation,
            "time": _time(record.who.time),
        },
        "firstSeen": _time(record.first_seen),
        "lastSeen": _time(record.last_seen),
        "patch": list(record.patch),
        "diff": record.diff,
        "url": links.drift(record),
    }


def plan_json(record: PlanRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "revision": record.revision,
        "status": record.status.value,
        "createdAt": _time(record.created_at),
        "updatedAt": _time(record.updated_at),
        "prNumber": record.pr_number,
        "prBranch": record.pr_branch,
        "url": links.plan(record.id),
    }


def revision_json(record: RevisionRecord) -> dict[str, Any]:
    return {
        "revision": record.revision,
        "status": record.status.value,
        "seenAt": _time(record.seen_at),
        "appliedAt": _time(record.applied_at),
        "error": record.error,
        "forced": record.forced,
        "summary": revision_summary(record),
        "subject": record.subject,
        "author": record.author,
    }


def revision_summary(record: RevisionRecord) -> str:
    """The revision's status for a person: ``partly applied: waiting for approval of a/s``."""
    said = record.status.value.replace("-", " ")
    return f"{said}: {record.error}" if record.error else said


def event_json(record: EventRecord) -> dict[str, Any]:
    return {**asdict(record), "at": _time(record.at)}


def clusters(request: Request) -> Response:
    deps = pages.services(request)
    matrix = matrices.build(deps.store.dashboards.bundles(), deps.catalog(), units=deps.store.rollouts.units())
    return JSONResponse({"clusters": [_line_json(line) for line in matrix.lines]})


def _line_json(line: matrices.Line) -> dict[str, Any]:
    cells = [c for c in line.cells if c is not None]
    return {
        "name": line.cluster,
        "labels": dict(line.labels),
        "state": line.state.value,
        "bundles": dict(Counter(c.state.value for c in cells)),
        "url": links.cluster(line.cluster),
    }


def unit_json(unit: UnitStatus) -> dict[str, Any]:
    return {"cluster": unit.cluster, "assignment": unit.assignment, "stage": unit.stage, "state": unit.state.value,
            "reason": unit.reason, "until": _time(unit.until)}


def cell_json(cell: matrices.Cell) -> dict[str, Any]:
    """A bundle of a cluster: its row when it was applied, and its state with its rollout unit's."""
    found = bundle_json(cell.row) if cell.row is not None else never_installed_json(cell)
    unit = unit_json(cell.unit) if cell.unit is not None else None
    return {**found, "state": cell.state.value, "unit": unit}


def never_installed_json(cell: matrices.Cell) -> dict[str, Any]:
    """A bundle assigned but never applied, in the shape of an applied one's (nothing recorded)."""
    stack, _, bundle = cell.column.partition("/")
    return {"cluster": cell.cluster, "bundle": {"cluster": cell.cluster, "stack": stack, "bundle": bundle},
            "reachability": "unknown", "paused": False, "revision": "", "objects": 0, "openDrift": 0,
            "outcome": "", "error": "", "updatedAt": None}


def cluster(request: Request) -> Response:
    deps = pages.services(request)
    name = request.path_params["name"]
    entry, cells, units = pages.cluster_cells(deps, name)
    health = {(h.cluster, h.bundle): h.health.label for h in deps.store.health.of_cluster(name)}
    return JSONResponse(
        {
            "name": name,
            "labels": dict(entry.labels) if entry else {},
            "stacks": dict(entry.stacks) if entry else {},
            "state": states.worst(c.state for c in cells).value,
            "bundles": [{**cell_json(c), "health": health.get((c.row.cluster, c.row.bundle), "") if c.row else ""}
                        for c in cells],
            "units": [unit_json(u) for u in units],
            "drift": [
                drift_json(d)
                for d in [d for d in deps.store.drifts.open() if name in (d.cluster, d.bundle.cluster)]
            ],
        }
    )


def bundles(request: Request) -> Response:
    rows = pages.services(request).store.dashboards.bundles()
    return JSONResponse({"bundles": [bundle_json(r) for r in rows]})


def drift(request: Request) -> Response:
    wanted = request.query_params.get("cluster") or None
    records = pages.services(request).store.drifts.open(cluster=wanted)
    return JSONResponse({"count": len(records), "entries": [drift_json(r) for r in records]})


def plans(request: Request) -> Response:
    records = pages.services(request).store.plans.recent(limit=100)
    return JSONResponse({"plans": [plan_json(r) for r in records]})


def plan(request: Request) -> Response:
    try:
        record = pages.services(request).store.plans.get(request.path_params["plan_id"])
    except StoreError:
        raise HTTPException(404, "no such plan") from None
    return JSONResponse({**plan_json(record), "plan": json.loads(record.body)})


def revisions(request: Request) -> Response:
    deps = pages.services(request)
    history = {
        s: [revision_json(r) for r in deps.store.revisions.history(s, limit=100)] for s in deps.sources
    }
    return JSONResponse({"sources": history})


def events(request: Request) -> Response:
    found = pages.services(request).store.events.recent(limit=200)
    return JSONResponse({"events": [event_json(e) for e in found]})


def assignment(request: Request) -> Response:
    deps = pages.services(request)
    return JSONResponse(rollouts.to_json(pages.rollout_view(deps, request.path_params["assignment"])))


async def pause(request: Request) -> Response:
    return await _set_paused(request, paused=True)


async def resume(request: Request) -> Response:
    return await _set_paused(request, paused=False)


async def _set_paused(request: Request, *, paused: bool) -> Response:
    form = await forms.fields(request)
    deps = pages.services(request)
    name = request.path_params["name"]
    who = guards.require(request, Scope.OPERATE, cluster=name)
    await run_in_threadpool(pages.cluster_rows, deps, name)  # 404 for a cluster nobody knows
    record = await run_in_threadpool(deps.store.clusters.set_paused, name, paused=paused)
    deps.store.events.add(
        "Paused" if paused else "Resumed",
        f"cluster {record.name} {'paused' if paused else 'resumed'} from the API by {who.name}",
        cluster=record.name,
    )
    return forms.answer(request, form, {"name": record.name, "paused": record.paused})
