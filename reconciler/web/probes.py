"""``/healthz`` (the process answers), ``/readyz`` (store reachable and writable, sources fresh), ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from reconciler import metrics as metrics_registry
from reconciler.errors import StackfleetError
from reconciler.web import pages
from reconciler.web.services import Readiness


def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


def readyz(request: Request) -> Response:
    result = check(request)
    return JSONResponse({"ready": result.ready, "checks": dict(result.checks)}, 200 if result.ready else 503)


def check(request: Request) -> Readiness:
    deps = pages.services(request)
    store = Readiness.of({"store": _store_problem(request)})
    extra = deps.readiness() if deps.readiness is not None else Readiness(True)
    return Readiness(ready=store.ready and extra.ready, checks={**store.checks, **extra.checks})


def _store_problem(request: Request) -> str:
    """What keeps the store from serving the daemon; empty when nothing does."""
    store = pages.services(request).store
    try:
        if not store.ping():
            return "schema is not at the latest version"
        return "" if store.writable() else "read-only"
    except StackfleetError as exc:
        return f"unreachable: {exc}"


def metrics(request: Request) -> Response:
    render = pages.services(request).metrics or default_metrics()
    return Response(render(), media_type=metrics_registry.CONTENT_TYPE)


def default_metrics() -> Callable[[], bytes]:
    """The daemon's registry (``reconciler.metrics``)."""
    return metrics_registry.render
