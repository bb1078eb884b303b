"""Webhook verification and a framework-agnostic receiver: a push to a tracked repo asks for a fetch.

The daemon's web server hands every request to ``WebhookReceiver.handle(headers, body)`` and sends
back the ``WebhookResult``. Three senders are understood, told apart by their headers:

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``, event in ``X-GitHub-Event``
  (``push``, and ``pull_request``; ``ping`` is answered), repo in ``repository.clone_url``/``ssh_url``/``html_url``.
- GitLab: ``X-Gitlab-Token: <the secret>``, event in ``X-Gitlab-Event`` (``Push Hook``,
  ``Tag Push Hook``, ``Merge Request Hook``), repo in ``project.git_http_url``/``git_ssh_url``/``web_url``.

A pull-request event asks for the same fetch as a push: the poll it triggers plans a new PR head at once
(``daemon.reviews``) instead of at the next poll interval.
- Generic (any CI or script): ``X-Signature-256: sha256=<hex HMAC-SHA256 of the body>``, optional
  ``X-Event: push`` (the default), body ``{"repository": "<clone URL>", "ref": "<ref>"}``.

Every secret comparison is constant-time (``hmac.compare_digest``). The body size is checked (from
``Content-Length`` and then the bytes) before anything else is done with it. A receiver cannot be built
with an empty secret. A valid push for a tracked repo calls the trigger, which coalesces bursts: while
a fetch of a repo is pending, more pushes for it add nothing (see ``CoalescingTrigger``). Everything
else is a no-op whose result says why.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import ConfigError
from reconciler.source.credentials import Secret

MAX_BODY_BYTES = 1024 * 1024
"""Bodies above this are refused unread (GitHub push payloads are far smaller for fleet repos)."""

_PUSH_EVENTS = {"github": {"push", "pull_request"}, "gitlab": {"Push Hook", "Tag Push Hook", "Merge Request Hook"},
                "generic": {"push"}}
_URL_FIELDS = {
    "github": ("repository.clone_url", "repository.ssh_url", "repository.html_url", "repository.git_url"),
    "gitlab": ("project.git_http_url", "project.git_ssh_url", "project.web_url", "repository.url"),
    "generic": ("repository",),
}


@dataclass(frozen=True)
class WebhookResult:
    """What to answer: an HTTP status, a short reason, and whether a fetch was asked for."""

    status_code: int
    message: str
    triggered: bool = False


class WebhookReceiver:
    """Checks webhook requests and calls ``trigger(repo_url)`` for pushes to tracked repos.

    ``trigger`` returns ``True`` when it scheduled a fetch and ``False`` when one was already pending.
    """

    def __init__(
        self,
        *,
        secret: str | Secret,
        tracked: Iterable[str],
        trigger: Callable[[str], bool],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if not value or not value.strip():
            raise ConfigError("webhook secret is empty: refusing to accept unauthenticated webhooks")
        self._secret = value.encode()
        self._tracked = {repo_key(url): url for url in tracked}
        self._trigger = trigger
        self.max_body_bytes = max_body_bytes

    def handle(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        lowered = {name.lower(): value for name, value in headers.items()}
        too_big = self._oversized(lowered, body)
        if too_big:
            return too_big
        sender = _sender(lowered)
        if sender is None:
            return WebhookResult(401, "no webhook signature or token header")
        if not self._authentic(sender, lowered, body):
            return WebhookResult(401, f"{sender} webhook signature or token does not match")
        return self._dispatch(sender, lowered, body)

    def _oversized(self, headers: Mapping[str, str], body: bytes) -> WebhookResult | None:
        declared = headers.get("content-length", "0")
        size = int(declared) if declared.isdigit() else 0
        if max(size, len(body)) > self.max_body_bytes:
            return WebhookResult(413, f"body over the limit of {self.max_body_bytes} bytes")
        return None

    def _authentic(self, sender: str, headers: Mapping[str, str], body: bytes) -> bool:
        if sender == "gitlab":
            return hmac.compare_digest(headers.get("x-gitlab-token", "").encode(), self._secret)
        header = "x-hub-signature-256" if sender == "github" else "x-signature-256"
        expected = "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(headers.get(header, "").encode(), expected.encode())

    def _dispatch(self, sender: str, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        event = _event(sender, headers)
        if sender == "github" and event == "ping":
            return WebhookResult(200, "pong")
        if event not in _PUSH_EVENTS[sender]:
            return WebhookResult(202, f"ignored: {sender} event {event!r} is not a push")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return WebhookResult(400, "body is not JSON")
        url = self._tracked_url(sender, payload)
        if url is None:
            return WebhookResult(202, "ignored: the pushed repository is not tracked")
        if self._trigger(url):
            return WebhookResult(202, "fetch scheduled", triggered=True)
        return WebhookResult(202, "fetch already pending: coalesced")

    def _tracked_url(self, sender: str, payload: Any) -> str | None:
        for field in _URL_FIELDS[sender]:
            value = _dig(payload, field)
            if isinstance(value, str) and repo_key(value) in self._tracked:
                return self._tracked[repo_key(value)]
        return None


def repo_key(url: str) -> str:
    """A comparable form of a repo URL: host (and port) plus path, lowercased, no user, no ``.git``.

    ``https://github.com/Org/Fleet.git``, ``git@github.com:org/fleet`` and
    ``ssh://git@github.com/org/fleet.git`` all give ``github.com/org/fleet``.
    """
    text = url.strip()
    if "://" in text:
        parts = urlsplit(text)
        host, path = parts.netloc.rpartition("@")[2], parts.path
        if parts.scheme == "ssh" and host.endswith(":22"):
            host = host[:-3]
    else:
        host, _, path = text.rpartition("@")[2].partition(":")
    path = path.strip("/").removesuffix(".git")
    return f"{host}/{path}".lower()


def _sender(headers: Mapping[str, str]) -> str | None:
    if "x-hub-signature-256" in headers:
        return "github"
    if "x-gitlab-token" in headers:
        return "gitlab"
    if "x-signature-256" in headers:
        return "generic"
    return None


def _event(sender: str, headers: Mapping[str, str]) -> str:
    if sender == "github":
        return headers.get("x-github-event", "")
    if sender == "gitlab":
        return headers.get("x-gitlab-event", "")
    return headers.get("x-event", "push")


def _dig(payload: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


class CoalescingTrigger:
    """Runs ``fetch(url)`` on one worker thread; a URL already waiting is not queued twice.

    A URL leaves the queue when its fetch starts, so a push that lands during a fetch schedules one
    more (the running fetch may have missed it). The queue is bounded by the number of tracked repos.
    """

    def __init__(self, fetch: Callable[[str], object]) -> None:
        self._fetch = fetch
        self._pending: dict[str, None] = {}
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self.errors: list[str] = []

    def __call__(self, url: str) -> bool:
        with self._cond:
            if self._closed or url in self._pending:
                return False
            self._pending[url] = None
            self._start_worker()
            self._cond.notify_all()
            return True

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending or running (``False`` on timeout)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout=timeout)

    def close(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout)

    def _start_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="stackfleet-webhook-fetch", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while (url := self._next()) is not None:
            try:
                self._fetch(url)
            except Exception as exc:  # one failed fetch must not stop the worker
                self.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _next(self) -> str | None:
        with self._cond:
            self._cond.wait_for(lambda: self._pending or self._closed)
            if not self._pending:
                return None
            url = next(iter(self._pending))
            del self._pending[url]
            self._busy = True
            return url
