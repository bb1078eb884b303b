"""One forge REST API over httpx: auth headers, typed errors, retries, and following pagination.

Status codes as GitHub and GitLab document them: 401 (bad credentials) and 403 (no permission) are
``ForgeAuthError``, except a 403 or 429 that says a rate limit is spent (``Retry-After``, or
``x-ratelimit-remaining: 0`` with ``x-ratelimit-reset``; GitLab's ``RateLimit-Reset``), which is
``ForgeRateLimited`` retried after the delay the forge gave; 404 and 422 are permanent ``ForgeError``s
(a 404 also answers a token that may not see the repository); 5xx and network errors are retried. The
token goes in a header only; no error message holds a header or a request body.

``pages`` follows ``Link: <...>; rel="next"`` (both forges send it), else GitLab's ``X-Next-Page``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from reconciler.errors import ForgeAuthError, ForgeError, ForgeRateLimited
from reconciler.forges.retries import Retry

MAX_PAGES = 100


class Api:
    def __init__(self, base_url: str, *, forge: str, headers: Mapping[str, str], retry: Retry | None = None,
                 timeout: float = 15.0, clock: Callable[[], float] = time.time,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.forge = forge
        self.retry = retry or Retry()
        self.clock = clock
        self.requests = 0
        """Requests sent, retries included."""
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=dict(headers), timeout=timeout,
                                    transport=transport, follow_redirects=False)

    def call(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
             what: str = "") -> httpx.Response:
        """One request (retried per ``Retry``); the response of a 2xx answer."""
        return self.retry.call(lambda: self._once(method, path, json=json, params=params, what=what))

    def pages(self, path: str, *, params: Mapping[str, Any], what: str = "") -> Iterator[Any]:
        """Every item of a paginated list."""
        response = self.call("GET", path, params=params, what=what)
        for _ in range(MAX_PAGES):
            yield from _items(response, forge=self.forge, what=what)
            following = _next_page(response, params)
            if following is None:
                return
            response = self.call("GET", following[0], params=following[1], what=what)

    def close(self) -> None:
        self._client.close()

    def _once(self, method: str, path: str, *, json: Any, params: Mapping[str, Any] | None,
              what: str) -> httpx.Response:
        self.requests += 1
        try:
            response = self._client.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise ForgeError(f"{self.forge}: {what or path}: {type(exc).__name__}", retryable=True,
                             forge=self.forge) from None
        if response.is_success:
            return response
        raise self._error(response, what=what or path)

    def _error(self, response: httpx.Response, *, what: str) -> ForgeError:
        code = response.status_code
        message = f"{self.forge}: {what}: HTTP {code} {_message(response)}".rstrip()
        wait = _rate_limit_wait(response, now=self.clock())
        if code == 429 or (code == 403 and wait is not None):
            return ForgeRateLimited(message, retryable=True, retry_after=wait, forge=self.forge)
        if code in (401, 403):
            return ForgeAuthError(message, forge=self.forge)
        return ForgeError(message, retryable=code >= 500, forge=self.forge)


def _items(response: httpx.Response, *, forge: str, what: str) -> list[Any]:
    data = response.json()
    if not isinstance(data, list):
        raise ForgeError(f"{forge}: {what}: expected a JSON list", forge=forge)
    return data


def _next_page(response: httpx.Response, params: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None] | None:
    """The absolute URL (and params) of the next page, or None on the last one."""
    link = response.links.get("next", {}).get("url")
    if link:
        return str(response.request.url.join(link)), None
    following = response.headers.get("x-next-page", "").strip()
    if following:
        return str(response.request.url.copy_with(query=None)), {**params, "page": following}
    return None


def _rate_limit_wait(response: httpx.Response, *, now: float) -> float | None:
    """Seconds the forge asks us to wait, when the answer says a rate limit is spent; else None."""
    headers = response.headers
    if "retry-after" in headers:
        return _number(headers["retry-after"])
    reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining")) == "0" and reset:
        stamp = _number(reset)
        return max(0.0, stamp - now) if stamp is not None else None
    return 0.0 if response.status_code == 429 else None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    """The forge's own short error message (``message``/``error``), never a request body."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    text = data.get("message") or data.get("error") or ""
    return str(text)[:200]
