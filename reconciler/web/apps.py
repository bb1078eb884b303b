"""The daemon's web app: dashboard pages, the JSON API, probes, metrics and webhook routes.

::

    app = apps.create_app(Services(store=store, tokens=Tokens.of(read=[...], admin=[...]), clock=clock,
                                   catalog=lambda: current_catalog, webhooks=receiver, sources=("fleet",)))
    with servers.serve(app, port=0) as server:      # uvicorn on 127.0.0.1 in a background thread
        print(server.url)

Routes (every one but the probes, ``/login``, ``/static`` and ``/hooks`` needs a token, see ``access``):

    /                      fleet view: clusters x stack/bundle, ?label=env=prod&state=drifted
    /clusters/<name>       a cluster: stacks and versions, bundles, drift, recent plans and events
    /drift                 every open drift entry; /drift/<dest>/<cluster>/<stack>/<bundle>?object=<key>
    /plans, /plans/<id>    pull-request plans with their state, plan history, one plan with its diffs (?cluster=)
    /revisions, /events    what each commit did; the event log
    /rollouts, /rollouts/<assignment>   each assignment's stages x clusters, with approve/pause/retry forms
    /api/v1/...            clusters, clusters/<name>, bundles, drift, plans, plans/<id>, revisions, events,
                           assignments/<name>; POST clusters/<name>/pause|resume|heal,
                           assignments/<name>/pause|resume, assignments/<a>/stages/<s>/approve,
                           assignments/<a>/units/<cluster>/retry (web.operations)
    /healthz, /readyz, /metrics, /hooks/<github|gitlab|generic>, /login, /logout
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import Scope

from reconciler.web import apis, filters, logins, openapis, operations, pages, probes, prplans, pushes
from reconciler.web.guards import TokenGuard
from reconciler.web.headers import SecurityHeaders
from reconciler.web.services import Services

HERE = Path(__file__).resolve().parent


def routes() -> list[BaseRoute]:
    return [
        Route("/", pages.fleet),
        Route("/clusters/{name}", pages.cluster),
        Route("/drift", pages.drift_list),
        Route("/drift/{cluster}/{owner}/{stack}/{bundle}", pages.drift_entry),
        Route("/plans", pages.plan_list),
        Route("/plans/{plan_id}", pages.plan_detail),
        Route("/revisions", pages.revisions),
        Route("/events", pages.events),
        Route("/rollouts", pages.rollout_list),
        Route("/rollouts/{assignment}", pages.rollout),
        Route("/login", logins.login_form, methods=["GET"]),
        Route("/login", logins.login_submit, methods=["POST"]),
        Route("/login/oidc", logins.oidc_start),
        Route("/login/oidc/callback", logins.oidc_callback),
        Route("/logout", logins.logout, methods=["GET", "POST"]),
        Route("/healthz", probes.healthz),
        Route("/readyz", probes.readyz),
        Route("/metrics", probes.metrics),
        Route("/hooks/{provider}", pushes.receive, methods=["POST"]),
        Mount("/api/v1", routes=api_routes()),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def api_routes() -> list[BaseRoute]:
    return [
        Route("/clusters", apis.clusters),
        Route("/clusters/{name}", apis.cluster),
        Route("/clusters/{name}/pause", apis.pause, methods=["POST"]),
        Route("/clusters/{name}/resume", apis.resume, methods=["POST"]),
        Route("/bundles", apis.bundles),
        Route("/drift", apis.drift),
        Route("/plans", apis.plans),
        Route("/plans/{plan_id}", apis.plan),
        Route("/pull-requests", prplans.pull_requests),
        Route("/pull-requests/{number}/plan", prplans.plan_of),
        Route("/revisions", apis.revisions),
        Route("/events", apis.events),
        Route("/openapi.json", openapis.serve),
        Route("/plans/{plan_id}/approve", operations.approve_plan, methods=["POST"]),
        Route("/assignments/{assignment}", apis.assignment),
        Route("/assignments/{assignment}/stages/{stage}/approve", operations.approve_stage, methods=["POST"]),
        Route("/assignments/{assignment}/pause", operations.pause_assignment, methods=["POST"]),
        Route("/assignments/{assignment}/resume", operations.resume_assignment, methods=["POST"]),
        Route("/assignments/{assignment}/units/{cluster}/retry", operations.retry_unit, methods=["POST"]),
        Route("/clusters/{name}/heal", operations.heal, methods=["POST"]),
    ]


def templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=filters.visible,
    )
    filters.install(env)
    return Jinja2Templates(env=env)


def create_app(services: Services) -> Starlette:
    """The web app over ``services`` (see the module docstring)."""
    found = templates()
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TokenGuard, tokens=services.tokens, login_page=_login_refusal, logins=services.logins,
                       clock=services.clock),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.services = services
    app.state.templates = found
    return app


def _login_refusal(scope: Scope, status: int, next_path: str) -> Response:
    return logins.login_page(Request(scope), status=status, next_path=next_path)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail}, status)
    return pages.render(request, "error.html", status=status, status_code=status, detail=detail)
