"""The token check in front of every route but the public ones (see ``access``).

Unauthenticated requests get 401: JSON for ``/api/`` and ``/metrics`` (with ``WWW-Authenticate:
Bearer``), the login page for the dashboard. Writes (anything but GET/HEAD) need a token with a scope
beyond ``read`` (403). The caller is left in ``scope["state"]["principal"]`` (its role in ``"role"``); a
route that operates on something calls ``require``. A session cookie from an OIDC login (``oidc``) is
accepted beside the tokens; a with the scope, cluster and stack it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from http.cookies import SimpleCookie

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.web import access
from reconciler.web.access import Principal, Role, Tokens
from reconciler.web.oidc import Logins

READS = frozenset({"GET", "HEAD"})


class TokenGuard:
    """ASGI middleware; ``login_page(scope, status, next_path)`` renders the refusal for browsers."""

    def __init__(
        self, app: ASGIApp, *, tokens: Tokens, login_page: Callable[[Scope, int, str], Response],
        logins: Logins | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.logins = logins
        self.clock = clock
        self.login_page = login_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or access.is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = access.presented(_headers(scope), _cookies(scope))
        principal = self.tokens.principal_of(given)
        if principal is None and self.logins is not None:
            principal = self.logins.principal_of(given, now=self.clock())
        role = principal.role if principal is not None else Role.NONE
        refusal = self._refusal(scope, role)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {}).update(role=role, principal=principal)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, role: Role) -> Response | None:
        path = scope["path"]
        machine = path.startswith("/api/") or path == "/metrics"
        if role is Role.NONE and machine:
            return JSONResponse(
                {"error": "a bearer token is needed"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        if role is Role.NONE:
            query = scope.get("query_string", b"").decode("latin-1")
            return self.login_page(scope, 401, path + (f"?{query}" if query else ""))
        if scope["method"] not in READS and role < Role.ADMIN:
            return JSONResponse({"error": "this needs the admin role"}, 403)
        return None


def require(request: Request, needed: access.Scope, *, cluster: str | None = None,
            stack: str | None = None) -> Principal:
    """The caller, when it holds ``needed`` for ``cluster`` and ``stack``; else 403 naming what is missing."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None or not principal.may(needed, cluster=cluster, stack=stack):
        where = " ".join(f"{k} {v}" for k, v in (("cluster", cluster), ("stack", stack)) if v)
        raise HTTPException(403, f"this needs the {needed.value} scope" + (f" on {where}" if where else ""))
    return principal


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(scope: Scope) -> dict[str, str]:
    raw = _headers(scope).get("cookie", "")
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed cookie header is just no cookie
        return {}
    return {name: morsel.value for name, morsel in jar.items()}
