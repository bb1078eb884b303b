"""Requests as data, and the one transport that sends them: the official client's ``ApiClient``.

The rest of ``reconciler.kube`` builds ``Request`` values and reads ``Response`` values, so retries,
rate limits and error mapping are plain code over data (tests can wrap a transport to cut the
connection after k writes). Connection-level failures come out as ``ConnectionFailed``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

JSON = "application/json"
APPLY_PATCH = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None
    content_type: str = JSON
    accept: str = JSON

    @property
    def dry_run(self) -> bool:
        return ("dryRun", "All") in self.query

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE") and not self.dry_run


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}


class ConnectionFailed(Exception):
    """The request got no HTTP answer (refused, reset, timed out, TLS failure)."""


class Transport(Protocol):
    def send(self, request: Request, *, timeout: float) -> Response: ...

    def close(self) -> None: ...


@dataclass
class ApiClientTransport:
    """Sends requests through a configured ``kubernetes.client.ApiClient`` (auth and TLS per kubeconfig)."""

    api: ApiClient

    def send(self, request: Request, *, timeout: float) -> Response:
        headers = {"Accept": request.accept, "Content-Type": request.content_type}
        try:
            method, url, headers, body, _ = self.api.param_serialize(
                request.method, request.path, query_params=list(request.query), header_params=headers,
                body=request.body, auth_settings=["BearerToken"],
            )
            answer = self.api.call_api(method, url, header_params=headers, body=body, _request_timeout=timeout)
            return Response(int(answer.status), answer.read() or b"", dict(answer.headers or {}))  # type: ignore[no-untyped-call]
        except ApiException as exc:  # TLS failures come out this way, with status 0
            raise ConnectionFailed(f"{exc.reason}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectionFailed(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]
