"""Tokens, roles and the login cookie, over real HTTP against the app on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest

from reconciler.errors import ConfigError
from reconciler.store.stores import Store
from reconciler.web import access, testing
from reconciler.web.access import Role, Tokens
from reconciler.web.services import Services

from_conftest_read, from_conftest_admin = "read-token-5b0e", "admin-token-91c2"

PROTECTED = [
    "/",
    "/clusters/prod-eu-2",
    "/drift",
    "/plans",
    "/revisions",
    "/events",
    "/metrics",
    "/api/v1/clusters",
    "/api/v1/bundles",
    "/api/v1/drift",
    "/api/v1/plans",
    "/api/v1/revisions",
    "/api/v1/events",
    "/api/v1/clusters/prod-eu-2",
]


@pytest.mark.parametrize("path", PROTECTED)
def test_every_route_but_health_refuses_a_request_without_token(web: httpx.Client, path: str) -> None:
    assert web.get(path).status_code == 401


@pytest.mark.parametrize("path", PROTECTED)
def test_a_wrong_token_is_refused(web: httpx.Client, path: str) -> None:
    assert web.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401


@pytest.mark.parametrize("path", [p for p in PROTECTED if p != "/metrics"])
def test_the_read_token_opens_every_page(web: httpx.Client, reader: dict[str, str], path: str) -> None:
    assert web.get(path, headers=reader).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/login", "/static/style.css", "/static/refresh.js"])
def test_health_login_and_static_need_no_token(web: httpx.Client, path: str) -> None:
    assert web.get(path).status_code == 200


def test_the_api_refusal_asks_for_a_bearer_token(web: httpx.Client) -> None:
    assert web.get("/api/v1/drift").headers["www-authenticate"] == "Bearer"


def test_a_refused_page_shows_the_login_form(web: httpx.Client) -> None:
    assert 'action="/login"' in web.get("/drift").text


def test_login_with_a_valid_token_sets_a_strict_http_only_cookie(web: httpx.Client) -> None:
    answer = web.post("/login", data={"token": from_conftest_read, "next": "/drift"})
    cookie = answer.headers["set-cookie"].lower()
    assert (
        answer.status_code,
        answer.headers["location"],
        "httponly" in cookie,
        "samesite=strict" in cookie,
    ) == (
        303,
        "/drift",
        True,
        True,
    )


def test_the_session_cookie_opens_the_pages(web: httpx.Client) -> None:
    web.post("/login", data={"token": from_conftest_read, "next": "/"})
    assert web.get("/drift").status_code == 200


def test_login_with_a_bad_token_is_refused_without_a_cookie(web: httpx.Client) -> None:
    answer = web.post("/login", data={"token": "guess", "next": "/"})
    assert (answer.status_code, "set-cookie" in answer.headers) == (401, False)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(web: httpx.Client, target: str) -> None:
    answer = web.post("/login", data={"token": from_conftest_read, "next": target})
    assert answer.headers["location"] == "/"


def test_logout_clears_the_cookie(web: httpx.Client) -> None:
    web.post("/login", data={"token": from_conftest_read, "next": "/"})
    web.post("/logout")
    assert web.get("/drift").status_code == 401


def test_writes_need_the_admin_role(web: httpx.Client, reader: dict[str, str]) -> None:
    assert web.post("/api/v1/clusters/prod-eu-1/pause", headers=reader).status_code == 403


def test_an_admin_pauses_a_cluster(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    with testing.running(make_services(filled)) as (_, client):
        client.post("/api/v1/clusters/prod-eu-1/pause", headers=admin)
        clusters = client.get("/api/v1/clusters", headers=admin).json()["clusters"]
    assert next(c["state"] for c in clusters if c["name"] == "prod-eu-1") == "paused"


ROLES = [
    pytest.param(from_conftest_admin, Role.ADMIN, id="admin"),
    pytest.param(from_conftest_read, Role.READ, id="read"),
    pytest.param("", Role.NONE, id="empty"),
    pytest.param(from_conftest_read + "x", Role.NONE, id="longer"),
]


@pytest.mark.parametrize(("token", "role"), ROLES)
def test_role_of_a_token(token: str, role: Role) -> None:
    tokens = Tokens.of(read=[from_conftest_read], admin=[from_conftest_admin])
    assert tokens.role_of(token) is role


@pytest.mark.parametrize(
    ("read", "admin"), [([""], []), ([], []), (["  "], ["x"])], ids=["empty", "none", "blank"]
)
def test_empty_or_missing_tokens_refuse_to_build(read: list[str], admin: list[str]) -> None:
    with pytest.raises(ConfigError):
        Tokens.of(read=read, admin=admin)


@pytest.mark.parametrize(
    ("headers", "cookies", "expected"),
    [
        ({"authorization": "Bearer abc"}, {}, "abc"),
        ({"authorization": "bearer abc"}, {access.COOKIE: "zzz"}, "abc"),
        ({}, {access.COOKIE: "zzz"}, "zzz"),
        ({"authorization": "Basic abc"}, {}, ""),
    ],
    ids=["bearer", "bearer-wins", "cookie", "basic-is-not-a-token"],
)
def test_presented_token(headers: dict[str, str], cookies: dict[str, str], expected: str) -> None:
    assert access.presented(headers, cookies) == expected


def test_the_login_page_does_not_refresh_itself(web: httpx.Client) -> None:
    assert 'data-refresh="0"' in web.get("/login").text


def raw_get(base_url: str, path: str) -> bytes:
    """A GET with ``path`` sent exactly as written (httpx would normalise dot segments)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize(
    "path",
    ["/static/../api/v1/drift", "/hooks/../api/v1/drift", "/static/%2e%2e/api/v1/drift", "//api/v1/drift"],
)
def test_public_prefixes_do_not_open_other_routes(served: str, path: str) -> None:
    answer = raw_get(served, path)
    assert (answer.split(b" ")[1] in (b"401", b"404"), b'"entries"' in answer) == (True, False)
