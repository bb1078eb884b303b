"""``kind: Status`` error bodies with the reasons and codes kube-apiserver uses.

Every refusal inside the simulator is an ``ApiError``; the HTTP layer turns it into the JSON body
clients parse (``kubectl`` prints ``message``, the Python client raises ``ApiException`` with it).
"""

from __future__ import annotations

from typing import Any

from reconciler.core.objects import Obj


class ApiError(Exception):
    """A request refused with an HTTP status code, a Status ``reason`` and optional details."""

    def __init__(self, code: int, reason: str, message: str, *, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers: dict[str, str] = {}

    def to_status(self) -> Obj:
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(name: str, *, group: str, kind: str, **extra: Any) -> Obj:
    details: Obj = {"name": name, "group": group, "kind": kind} if name else {"group": group, "kind": kind}
    details.update(extra)
    return {k: v for k, v in details.items() if v != "" or k == "group"}


def not_found(*, group: str, plural: str, name: str) -> ApiError:
    qualified = f"{plural}.{group}" if group else plural
    return ApiError(
        404, "NotFound", f'{qualified} "{name}" not found', details=_details(name, group=group, kind=plural)
    )


def already_exists(*, group: str, plural: str, name: str) -> ApiError:
    qualified = f"{plural}.{group}" if group else plural
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified} "{name}" already exists',
        details=_details(name, group=group, kind=plural),
    )


def conflict(*, group: str, plural: str, name: str, message: str, causes: list[Obj] | None = None) -> ApiError:
    qualified = f"{plural}.{group}" if group else plural
    extra: dict[str, Any] = {"causes": causes} if causes else {}
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified} "{name}": {message}',
        details=_details(name, group=group, kind=plural, **extra),
    )


def stale(*, group: str, plural: str, name: str) -> ApiError:
    return conflict(
        group=group,
        plural=plural,
        name=name,
        message="the object has been modified; please apply your changes to the latest version and try again",
    )


def invalid(*, group: str, kind: str, name: str, causes: list[Obj]) -> ApiError:
    qualified = f"{kind}.{group}" if group else kind
    text = ", ".join(f"{c.get('field', '')}: {c.get('message', '')}" for c in causes)
    return ApiError(
        422,
        "Invalid",
        f'{qualified} "{name}" is invalid: {text}',
        details=_details(name, group=group, kind=kind, causes=causes),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def method_not_allowed(verb: str, *, resource: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource ({verb} {resource})")


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got {content_type!r}")


def too_many_requests(retry_after: int) -> ApiError:
    error = ApiError(
        429,
        "TooManyRequests",
        "the server has received too many requests and has asked us to try again later",
        details={"retryAfterSeconds": retry_after},
    )
    error.headers["Retry-After"] = str(retry_after)
    return error


def internal_error(message: str = "an error on the server (\"\") has prevented the request from succeeding") -> ApiError:
    return ApiError(500, "InternalError", message)


def service_unavailable(message: str = "the server is currently unable to handle the request") -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)
