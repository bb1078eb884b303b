"""``POST /hooks/<provider>``: webhook pushes handed to ``source.webhooks.WebhookReceiver``.

``provider`` is ``github``, ``gitlab`` or ``generic`` and must agree with the headers the sender put
on the request. The body is read only up to the receiver's cap (anything larger is refused with 413
without being read to the end); the receiver checks the signature in constant time and coalesces
fetches. No access token is asked for: the HMAC signature (or GitLab token) is the authentication.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.web import pages

SIGNATURE_HEADERS = {
    "github": "x-hub-signature-256",
    "gitlab": "x-gitlab-token",
    "generic": "x-signature-256",
}


async def receive(request: Request) -> Response:
    receiver = pages.services(request).webhooks
    provider = request.path_params["provider"]
    if receiver is None or provider not in SIGNATURE_HEADERS:
        return JSONResponse({"error": "no such webhook"}, 404)
    if SIGNATURE_HEADERS[provider] not in request.headers:
        return JSONResponse({"error": f"no {provider} signature header"}, 401)
    body = await _capped(request, limit=receiver.max_body_bytes)
    if body is None:
        return JSONResponse({"error": f"body over the limit of {receiver.max_body_bytes} bytes"}, 413)
    result = receiver.handle(dict(request.headers), body)
    return JSONResponse({"message": result.message, "triggered": result.triggered}, result.status_code)


async def _capped(request: Request, *, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return body
