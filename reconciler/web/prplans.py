"""Pull-request plans over HTTP: the list, and the plan of one pull request (what CI jobs ask for).

``GET /api/v1/pull-requests``: every recent PR plan with its state (planned, posted, applied, superseded).
``GET /api/v1/pull-requests/{number}/plan?source=S&sha=SHA&format=markdown|json``: the newest plan of that
pull request (of that head commit when ``sha`` is given); 404 until the daemon has planned it, so a CI
job polls. The Markdown is the comment the daemon posts (``core.prplan_views``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from reconciler.core import prplan_views
from reconciler.store.records import PrPlanRecord
from reconciler.web import links, pages


def pull_requests(request: Request) -> Response:
    records = pages.services(request).store.pr_plans.recent(limit=100)
    return JSONResponse({"pullRequests": [record_json(r) for r in records]})


def plan_of(request: Request) -> Response:
    deps = pages.services(request)
    number = _number(request.path_params["number"])
    source, sha = request.query_params.get("source", ""), request.query_params.get("sha", "")
    found = [r for r in deps.store.pr_plans.recent(limit=500)
             if r.number == number and (not source or r.source == source) and (not sha or r.head_sha == sha)]
    if not found:
        raise HTTPException(404, f"pull request #{number} has no plan yet" + (f" for {sha[:12]}" if sha else ""))
    record = found[0]
    plan = deps.store.pr_plans.load(record.id)
    if request.query_params.get("format", "json") == "markdown":
        return PlainTextResponse(prplan_views.markdown(plan), media_type="text/markdown; charset=utf-8")
    return JSONResponse({**record_json(record), "plan": json.loads(record.body)})


def record_json(record: PrPlanRecord) -> dict[str, Any]:
    return {
        "id": record.id, "source": record.source, "number": record.number, "headSha": record.head_sha,
        "head": record.head, "base": record.base, "state": record.state.value, "hasChanges": record.has_changes,
        "contentHash": record.content_hash, "plan": links.plan(record.plan_id), "note": record.note,
        "postAttempts": record.post_attempts, "postError": record.post_error,
        "postedAt": record.posted_at.isoformat() if record.posted_at else None,
        "createdAt": record.created_at.isoformat(),
    }


def _number(text: str) -> int:
    if not text.isdigit():
        raise HTTPException(404, "a pull request is named by its number")
    return int(text)
