"""Forms of the dashboard that change something, and their CSRF protection.

An operation comes either from a script, with ``Authorization: Bearer <token>`` (a header no other
site can make a browser send), or from a dashboard form, with the session cookie. A form carries a
``csrf`` field: an HMAC of the session's token, so only a page this site rendered for that session
can hold it (the "synchronizer token" of the OWASP CSRF cheat sheet, kept stateless). A cookie-borne
write without it, or with another session's, is refused (403), whatever the cookie's ``SameSite``.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from reconciler.web import access

FIELD = "csrf"
MAX_FORM_BYTES = 8192


def token_for(session_token: str) -> str:
    """The CSRF value of a session (``""`` without one)."""
    if not session_token:
        return ""
    return hmac.new(session_token.encode(), b"stackfleet csrf v1", hashlib.sha256).hexdigest()


def page_token(request: Request) -> str:
    """The CSRF value to put in the forms of a page rendered for ``request``'s session."""
    return token_for(request.cookies.get(access.COOKIE, ""))


def is_bearer(request: Request) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(value.strip())


async def fields(request: Request) -> dict[str, str]:
    """The submitted fields (form-encoded or none), after the CSRF check for cookie-borne requests."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "form too large")
    found = {k: v[0] for k, v in parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=20).items() if v}
    if not is_bearer(request):
        expected = page_token(request)
        if not expected or not hmac.compare_digest(found.get(FIELD, "").encode(), expected.encode()):
            raise HTTPException(403, "missing or wrong CSRF token: submit the form from the dashboard")
    return found


def answer(request: Request, form: dict[str, str], body: dict[str, object], *, status: int = 200) -> Response:
    """JSON, or for a dashboard form (one that says where it came from, ``next``) back to that page."""
    if is_bearer(request) or "next" not in form:
        return JSONResponse(body, status)
    return RedirectResponse(access.safe_next(form["next"]), status_code=303)
