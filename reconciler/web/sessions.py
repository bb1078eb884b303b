"""``/login`` and ``/logout``: a form that trades a token for the session cookie (see ``access``).

The form body is parsed here (``application/x-www-form-urlencoded``, capped at ``MAX_FORM_BYTES``) so
the app needs no multipart library.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reconciler.web import access, pages
from reconciler.web.access import Role

MAX_FORM_BYTES = 8192
SESSION_SECONDS = 12 * 3600


def login_page(request: Request, *, status: int = 200, next_path: str = "/", error: str = "") -> Response:
    return pages.render(
        request, "login.html", status=status, next_path=access.safe_next(next_path), error=error, refresh=0
    )


def login_form(request: Request) -> Response:
    return login_page(request, next_path=request.query_params.get("next", "/"))


async def login_submit(request: Request) -> Response:
    form = await _form(request)
    token, next_path = form.get("token", ""), access.safe_next(form.get("next", "/"))
    deps = pages.services(request)
    if deps.tokens.role_of(token) is Role.NONE:
        return login_page(request, status=401, next_path=next_path, error="That token is not valid.")
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        access.COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=deps.secure_cookies,
        path="/",
    )
    return response


def logout(request: Request) -> Response:
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
