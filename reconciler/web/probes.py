"""``/healthz`` (the process answers), ``/readyz`` (store reachable, sources fresh), ``/metrics``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from reconciler.errors import StackfleetError
from reconciler.web import pages
from reconciler.web.services import Readiness

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


def readyz(request: Request) -> Response:
    result = check(request)
    return JSONResponse({"ready": result.ready, "checks": dict(result.checks)}, 200 if result.ready else 503)


def check(request: Request) -> Readiness:
    deps = pages.services(request)
    checks = {"store": _store_check(request)}
    extra = deps.readiness() if deps.readiness is not None else Readiness(True)
    checks.update(extra.checks)
    return Readiness(ready=checks["store"] == "ok" and extra.ready, checks=checks)


def _store_check(request: Request) -> str:
    try:
        return "ok" if pages.services(request).store.ping() else "schema is not at the latest version"
    except StackfleetError as exc:
        return f"unreachable: {exc}"


def metrics(request: Request) -> Response:
    render = pages.services(request).metrics or default_metrics()
    if render is None:
        return PlainTextResponse("metrics are not configured\n", 503)
    return Response(render(), media_type=METRICS_TYPE)


def default_metrics() -> Callable[[], bytes] | None:
    """``reconciler.metrics``'s exposition, when that module provides one."""
    try:
        module = importlib.import_module("reconciler.metrics")
    except ImportError:
        return None
    for name in ("exposition", "render", "generate", "expose"):
        found = getattr(module, name, None)
        if callable(found):
            return lambda: _as_bytes(found())
    return None


def _as_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
