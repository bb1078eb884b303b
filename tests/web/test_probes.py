"""Probes, metrics and webhook routes."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.source.webhooks import WebhookReceiver
from reconciler.store.stores import Store
from reconciler.web import servers, testing
from reconciler.web.services import Readiness, Services

SECRET = "hook-secret-4f1d"
REPO = "https://git.example.com/org/fleet.git"


def test_healthz_answers_ok(web: httpx.Client) -> None:
    assert web.get("/healthz").text == "ok\n"


def test_readyz_checks_the_store(web: httpx.Client) -> None:
    assert web.get("/readyz").json() == {"ready": True, "checks": {"store": "ok"}}


def test_readyz_is_503_when_sources_are_stale(store: Store, make_services: Callable[..., Services]) -> None:
    stale = Readiness(False, {"source fleet": "stale since 2026-01-01T11:00:00Z"})
    with testing.running(make_services(store, readiness=lambda: stale)) as (_, client):
        answer = client.get("/readyz")
    assert (answer.status_code, answer.json()["checks"]["source fleet"]) == (
        503,
        "stale since 2026-01-01T11:00:00Z",
    )


def test_readyz_is_503_when_the_store_is_broken(
    tmp_path: Path, store: Store, make_services: Callable[..., Services]
) -> None:
    with testing.running(make_services(store)) as (_, client):
        store.close()
        for leftover in tmp_path.glob("state.db-*"):
            leftover.unlink()
        (tmp_path / "state.db").write_bytes(b"this is not a database" * 100)
        answer = client.get("/readyz")
    assert (answer.status_code, answer.json()["checks"]["store"].startswith("unreachable")) == (503, True)


def test_metrics_need_a_token_and_parse(
    store: Store, make_services: Callable[..., Services], reader: dict[str, str]
) -> None:
    registry = CollectorRegistry()
    Counter("stackfleet_test_total", "a test series", registry=registry).inc()
    with testing.running(make_services(store, metrics=lambda: generate_latest(registry))) as (_, client):
        text = client.get("/metrics", headers=reader).text
    assert "stackfleet_test" in [f.name for f in text_string_to_metric_families(text)]


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": "push",
        "Content-Type": "application/json",
    }


@pytest.fixture
def hooked(store: Store, make_services: Callable[..., Services]) -> tuple[httpx.Client, list[str]]:
    pushed: list[str] = []
    receiver = WebhookReceiver(
        secret=SECRET, tracked=[REPO], trigger=lambda url: pushed.append(url) is None, max_body_bytes=4096
    )
    with testing.running(make_services(store, webhooks=receiver)) as (_, client):
        yield client, pushed


PUSH = json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": REPO}}).encode()
HOOKS = [
    pytest.param("/hooks/github", PUSH, signed(PUSH), 202, [REPO], id="signed-push-triggers-a-fetch"),
    pytest.param(
        "/hooks/github",
        PUSH,
        {**signed(PUSH), "X-Hub-Signature-256": "sha256=00"},
        401,
        [],
        id="bad-signature",
    ),
    pytest.param("/hooks/github", PUSH, {"X-GitHub-Event": "push"}, 401, [], id="no-signature"),
    pytest.param("/hooks/gitlab", PUSH, signed(PUSH), 401, [], id="provider-does-not-match-headers"),
    pytest.param("/hooks/bitbucket", PUSH, signed(PUSH), 404, [], id="unknown-provider"),
    pytest.param("/hooks/github", b"x" * 5000, signed(b"x" * 5000), 413, [], id="oversized-body"),
]


@pytest.mark.parametrize(("path", "body", "headers", "status", "triggered"), HOOKS)
def test_webhooks(
    hooked: tuple[httpx.Client, list[str]],
    path: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    triggered: list[str],
) -> None:
    client, pushed = hooked
    answer = client.post(path, content=body, headers=headers)
    assert (answer.status_code, pushed) == (status, triggered)


def test_the_listening_socket_has_tcp_nodelay() -> None:
    sock = servers.listen("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


def test_the_server_binds_loopback_and_stops(store: Store, make_services: Callable[..., Services]) -> None:
    with testing.running(make_services(store)) as (server, _):
        host = server.host
    assert (host, server.thread.is_alive()) == ("127.0.0.1", False)
