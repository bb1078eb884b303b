"""Webhook receiver: signatures, tokens, events, body cap, empty secret, coalesced fetches."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest

from reconciler.errors import ConfigError
from reconciler.source.webhooks import CoalescingTrigger, WebhookReceiver, WebhookResult, repo_key

SECRET = "hook-secret-canary"
TRACKED = "https://git.example.test/platform/fleet.git"


class Calls:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        return True


def _receiver(calls: Calls, **kwargs: object) -> WebhookReceiver:
    return WebhookReceiver(secret=SECRET, tracked=[TRACKED], trigger=calls, **kwargs)  # type: ignore[arg-type]


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _github_push(url: str = "https://git.example.test/platform/fleet") -> bytes:
    return json.dumps(
        {"ref": "refs/heads/main", "repository": {"clone_url": url + ".git", "html_url": url}}
    ).encode()


def test_github_push_with_valid_signature_triggers_fetch() -> None:
    calls, body = Calls(), _github_push()
    result = _receiver(calls).handle({"X-Hub-Signature-256": _sign(body), "X-GitHub-Event": "push"}, body)
    assert (result, calls.urls) == (WebhookResult(202, "fetch scheduled", triggered=True), [TRACKED])


def test_github_wrong_signature_is_401_and_triggers_nothing() -> None:
    calls, body = Calls(), _github_push()
    result = _receiver(calls).handle(
        {"X-Hub-Signature-256": _sign(body, "other"), "X-GitHub-Event": "push"}, body
    )
    assert (result.status_code, calls.urls) == (401, [])


def test_github_signature_of_other_body_is_401() -> None:
    calls = Calls()
    headers = {"X-Hub-Signature-256": _sign(b"{}"), "X-GitHub-Event": "push"}
    assert _receiver(calls).handle(headers, _github_push()).status_code == 401


def test_missing_signature_is_401() -> None:
    assert _receiver(Calls()).handle({"X-GitHub-Event": "push"}, _github_push()).status_code == 401


def test_github_non_push_event_is_a_no_op_with_reason() -> None:
    calls, body = Calls(), _github_push()
    result = _receiver(calls).handle({"X-Hub-Signature-256": _sign(body), "X-GitHub-Event": "issues"}, body)
    assert (result.status_code, result.message, calls.urls) == (
        202,
        "ignored: github event 'issues' is not a push",
        [],
    )


def test_a_github_pull_request_event_triggers_a_fetch() -> None:
    calls, body = Calls(), _github_push()
    result = _receiver(calls).handle({"X-Hub-Signature-256": _sign(body), "X-GitHub-Event": "pull_request"}, body)
    assert (result.triggered, calls.urls) == (True, [TRACKED])


def test_a_gitlab_merge_request_event_triggers_a_fetch() -> None:
    calls = Calls()
    body = json.dumps({"object_kind": "merge_request",
                       "project": {"git_http_url": "https://git.example.test/platform/fleet.git"}}).encode()
    result = _receiver(calls).handle({"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Merge Request Hook"}, body)
    assert (result.triggered, calls.urls) == (True, [TRACKED])


def test_github_ping_is_answered() -> None:
    body = b"{}"
    result = _receiver(Calls()).handle({"X-Hub-Signature-256": _sign(body), "X-GitHub-Event": "ping"}, body)
    assert result == WebhookResult(200, "pong")


def test_push_to_untracked_repo_is_a_no_op() -> None:
    calls, body = Calls(), _github_push("https://git.example.test/someone/else")
    result = _receiver(calls).handle({"X-Hub-Signature-256": _sign(body), "X-GitHub-Event": "push"}, body)
    assert (result.message, calls.urls) == ("ignored: the pushed repository is not tracked", [])


def test_gitlab_push_with_token_triggers_fetch() -> None:
    calls = Calls()
    body = json.dumps({"project": {"git_ssh_url": "git@git.example.test:platform/fleet.git"}}).encode()
    result = _receiver(calls).handle({"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Push Hook"}, body)
    assert (result.triggered, calls.urls) == (True, [TRACKED])


def test_gitlab_wrong_token_is_401() -> None:
    calls = Calls()
    result = _receiver(calls).handle({"X-Gitlab-Token": "guess", "X-Gitlab-Event": "Push Hook"}, b"{}")
    assert (result.status_code, calls.urls) == (401, [])


def test_generic_hmac_push_triggers_fetch() -> None:
    calls = Calls()
    body = json.dumps({"repository": "ssh://git@git.example.test/platform/fleet", "ref": "main"}).encode()
    assert _receiver(calls).handle({"x-signature-256": _sign(body)}, body).triggered is True


def test_generic_bad_json_is_400() -> None:
    body = b"not json"
    assert _receiver(Calls()).handle({"X-Signature-256": _sign(body)}, body).status_code == 400


def test_oversized_body_is_refused_before_any_check() -> None:
    calls, body = Calls(), b"x" * 2048
    result = _receiver(calls, max_body_bytes=1024).handle({"X-Signature-256": _sign(body)}, body)
    assert (result.status_code, calls.urls) == (413, [])


def test_oversized_content_length_is_refused_unread() -> None:
    result = _receiver(Calls(), max_body_bytes=1024).handle({"Content-Length": "999999999"}, b"")
    assert result.status_code == 413


@pytest.mark.parametrize("secret", ["", "   "])
def test_empty_secret_refuses_to_build(secret: str) -> None:
    with pytest.raises(ConfigError, match="secret is empty"):
        WebhookReceiver(secret=secret, tracked=[TRACKED], trigger=Calls())


def test_secret_never_appears_in_results() -> None:
    body = _github_push()
    results = [
        _receiver(Calls()).handle({"X-Hub-Signature-256": "sha256=00", "X-GitHub-Event": "push"}, body),
        _receiver(Calls()).handle({"X-Gitlab-Token": "x", "X-Gitlab-Event": "Push Hook"}, body),
    ]
    assert not any(SECRET in r.message for r in results)


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.test/platform/fleet.git",
        "https://user@git.example.test/Platform/Fleet/",
        "git@git.example.test:platform/fleet.git",
        "ssh://git@git.example.test:22/platform/fleet",
    ],
)
def test_repo_key_matches_equivalent_urls(url: str) -> None:
    assert repo_key(url) == "git.example.test/platform/fleet"


def test_burst_of_pushes_coalesces_into_one_fetch() -> None:
    release, fetched = threading.Event(), []

    def slow_fetch(url: str) -> None:
        fetched.append(url)
        release.wait(10)

    trigger = CoalescingTrigger(slow_fetch)
    receiver = WebhookReceiver(secret=SECRET, tracked=[TRACKED], trigger=trigger)
    body = _github_push()
    headers = {"X-Hub-Signature-256": _sign(body), "X-GitHub-Event": "push"}
    first = receiver.handle(headers, body)  # starts a fetch ...
    while not fetched:
        threading.Event().wait(0.01)
    burst = [receiver.handle(headers, body).triggered for _ in range(20)]  # ... the burst queues one more
    release.set()
    trigger.wait_idle(10)
    trigger.close()
    assert (first.triggered, burst.count(True), len(fetched)) == (True, 1, 2)


def test_failed_fetch_does_not_stop_the_worker() -> None:
    seen: list[str] = []

    def flaky(url: str) -> None:
        seen.append(url)
        if len(seen) == 1:
            raise RuntimeError("remote down")

    trigger = CoalescingTrigger(flaky)
    trigger("a")
    trigger.wait_idle(10)
    trigger("b")
    trigger.wait_idle(10)
    trigger.close()
    assert (seen, trigger.errors) == (["a", "b"], ["RuntimeError: remote down"])
