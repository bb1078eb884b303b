"""``/login`` and ``/logout``: a form that trades a token for the session cookie (see ``access``), and
``/login/oidc`` (with its callback) that logs in through the OIDC provider when one is configured
(``oidc``): the session cookie then holds a random session id instead of a token.

The form body is parsed here (``application/x-www-form-urlencoded``, capped at ``MAX_FORM_BYTES``) so
the app needs no multipart library.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reconciler.web import access, oidc, pages
from reconciler.web.access import Role

MAX_FORM_BYTES = 8192
SESSION_SECONDS = 12 * 3600


def login_page(request: Request, *, status: int = 200, next_path: str = "/", error: str = "") -> Response:
    return pages.render(
        request, "login.html", status=status, next_path=access.safe_next(next_path), error=error, refresh=0,
        oidc=pages.services(request).logins is not None,
    )


def login_form(request: Request) -> Response:
    return login_page(request, next_path=request.query_params.get("next", "/"))


async def login_submit(request: Request) -> Response:
    form = await _form(request)
    token, next_path = form.get("token", ""), access.safe_next(form.get("next", "/"))
    deps = pages.services(request)
    if deps.tokens.role_of(token) is Role.NONE:
        return login_page(request, status=401, next_path=next_path, error="That token is not valid.")
    return _signed_in(RedirectResponse(next_path, status_code=303), token, secure=deps.secure_cookies)


def _signed_in(response: Response, value: str, *, secure: bool) -> Response:
    response.set_cookie(access.COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                        secure=secure, path="/")
    return response


def oidc_start(request: Request) -> Response:
    """Send the browser to the OIDC provider; the state also goes into a short-lived Lax cookie, so the
    callback is accepted only in the browser that started the login."""
    deps = pages.services(request)
    if deps.logins is None:
        raise HTTPException(404, "OIDC login is not configured")
    url, state = deps.logins.begin(next_path=access.safe_next(request.query_params.get("next", "/")),
                                   now=deps.clock())
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(access.OIDC_STATE_COOKIE, state, max_age=oidc.PENDING_SECONDS, httponly=True,
                        samesite="lax", secure=deps.secure_cookies, path="/login/oidc")
    return response


def oidc_callback(request: Request) -> Response:
    deps = pages.services(request)
    if deps.logins is None:
        raise HTTPException(404, "OIDC login is not configured")
    state, code = request.query_params.get("state", ""), request.query_params.get("code", "")
    bound = request.cookies.get(access.OIDC_STATE_COOKIE, "")
    if not (state and code and bound and hmac.compare_digest(state.encode(), bound.encode())):
        return login_page(request, status=400, error="The login did not start in this browser; log in again.")
    try:
        session, who, next_path = deps.logins.finish(state=state, code=code, now=deps.clock())
    except oidc.LoginFailed as exc:
        return login_page(request, status=401, error=f"Login failed: {exc}")
    deps.store.events.add("LoggedIn", f"{who.name} logged in to the dashboard through OIDC")
    response = _signed_in(RedirectResponse(next_path, status_code=303), session, secure=deps.secure_cookies)
    response.delete_cookie(access.OIDC_STATE_COOKIE, path="/login/oidc")
    return response


def logout(request: Request) -> Response:
    deps = pages.services(request)
    if deps.logins is not None:
        deps.logins.end(request.cookies.get(access.COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(access.COOKIE, path="/")
    return response


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items() if values}
