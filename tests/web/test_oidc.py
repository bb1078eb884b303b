"""OIDC login for the dashboard (authorization code + PKCE, group -> scope mapping), against a local
OIDC provider (tests/web/oidc_provider.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from reconciler.store.stores import Store
from reconciler.web import access, forms, oidc, testing
from reconciler.web.access import Scope
from reconciler.web.services import Services
from tests.web.oidc_provider import Provider

GRANTS = {"sre": oidc.Grant(frozenset({Scope.OPERATE}), clusters=("prod-*",))}


@pytest.fixture
def provider() -> Iterator[Provider]:
    running = Provider()
    yield running
    running.stop()


@contextmanager
def app_with_oidc(store: Store, make_services: Callable[..., Services],
                  provider: Provider) -> Iterator[tuple[httpx.Client, oidc.Logins]]:
    logins = oidc.Logins(oidc.Config(issuer=provider.issuer, client_id="stackfleet", redirect_url="set below",
                                     grants=GRANTS))
    with testing.running(make_services(store, logins=logins)) as (server, client):
        logins.config = dataclasses.replace(logins.config, redirect_url=f"{server.url}/login/oidc/callback")
        yield client, logins


def log_in(client: httpx.Client, *, next_path: str = "/clusters/prod-eu-1") -> httpx.Response:
    start = client.get(f"/login/oidc?next={next_path}")
    assert start.status_code == 302, start.text
    assert "code_challenge_method=S256" in start.headers["location"]
    at_provider = httpx.get(start.headers["location"], timeout=10)
    assert at_provider.status_code == 302
    return client.get(at_provider.headers["location"])


def test_a_member_of_a_mapped_group_operates_within_its_limits_and_events_name_them(
        store: Store, make_services: Callable[..., Services], provider: Provider) -> None:
    with app_with_oidc(store, make_services, provider) as (client, _):
        done = log_in(client)
        assert (done.status_code, done.headers["location"]) == (303, "/clusters/prod-eu-1")
        csrf = {"csrf": forms.token_for(client.cookies.get(access.COOKIE) or "")}  # a session's writes carry it
        codes = [client.get("/api/v1/clusters").status_code,
                 client.post("/api/v1/clusters/prod-eu-1/pause", data=csrf).status_code,
                 client.post("/api/v1/clusters/dev-eu-1/pause", data=csrf).status_code]
    assert codes == [200, 200, 403]
    assert [e.message for e in store.events.recent()] == [
        "cluster prod-eu-1 paused from the API by alice@example.dev",
        "alice@example.dev logged in to the dashboard through OIDC"]


def test_a_person_in_no_mapped_group_may_only_read(store: Store, make_services: Callable[..., Services],
                                                    provider: Provider) -> None:
    provider.user = dataclasses.replace(provider.user, email="bob@example.dev", groups=["marketing"])
    with app_with_oidc(store, make_services, provider) as (client, _):
        assert log_in(client).status_code == 303
        csrf = {"csrf": forms.token_for(client.cookies.get(access.COOKIE) or "")}
        codes = (client.get("/api/v1/clusters").status_code,
                 client.post("/api/v1/clusters/prod-eu-1/pause", data=csrf).status_code)
    assert codes == (200, 403)


@pytest.mark.parametrize("tamper", ["key", "nonce", "audience", "issuer", "expired"])
def test_an_id_token_that_does_not_prove_the_login_is_refused(store: Store, make_services: Callable[..., Services],
                                                              provider: Provider, tamper: str) -> None:
    provider.tamper.add(tamper)
    with app_with_oidc(store, make_services, provider) as (client, _):
        done = log_in(client)
        after = client.get("/api/v1/clusters").status_code
    assert (done.status_code, access.COOKIE in done.cookies, after) == (401, False, 401)
    assert "Login failed" in done.text


def test_a_callback_from_another_browser_or_a_replayed_code_is_refused(
        store: Store, make_services: Callable[..., Services], provider: Provider) -> None:
    with app_with_oidc(store, make_services, provider) as (client, _):
        start = client.get("/login/oidc")
        back = httpx.get(start.headers["location"], timeout=10).headers["location"]
        with httpx.Client(timeout=10) as stranger:
            elsewhere = stranger.get(back)
        first, replay = client.get(back), client.get(back)
    assert (elsewhere.status_code, first.status_code, replay.status_code) == (400, 303, 400)
    assert provider.token_requests == 1


def test_a_verifier_matches_its_s256_challenge() -> None:
    # RFC 7636 appendix B
    assert oidc.challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
