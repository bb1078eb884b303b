"""Issue 17 item 7: named tokens with scopes, limited to clusters, kept only as digests, and an OIDC
login mapped to scopes; every operation names who did it in the events, and no token value reaches
the store or the logs."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import httpx

from reconciler.web import access, catalogs, forms, oidc
from reconciler.web import testing as web_testing
from reconciler.web.access import NamedToken, Principal, Scope, Tokens
from reconciler.web.services import Services
from tests.reliability.conftest import database_bytes
from tests.web.oidc_provider import Provider

AREA = "scopes"
OPERATOR, APPROVER = "c1-operator-token-5d2e", "approver-token-88aa"


def token(value: str, name: str, scopes: set[Scope], clusters: tuple[str, ...] = ()) -> NamedToken:
    return NamedToken(name, access.digest(value), Principal(name, frozenset({Scope.READ, *scopes}), clusters))


def test_scoped_tokens_and_an_oidc_login_act_only_within_their_grants(applied, figures, captured_logs):
    tokens = Tokens.of(read=[applied.read_token], named=[token(OPERATOR, "c1-ops", {Scope.OPERATE}, ("c1",)),
                                                         token(APPROVER, "release-bot", {Scope.APPROVE})])
    provider = Provider()
    logins = oidc.Logins(oidc.Config(issuer=provider.issuer, client_id="stackfleet", redirect_url="set below",
                                     grants={"sre": oidc.Grant(frozenset({Scope.OPERATE}), clusters=("c2",))}))
    services = Services(store=applied.store, tokens=tokens, clock=lambda: datetime.now(UTC),
                        catalog=lambda: catalogs.from_repo(applied.repo()), sources=("fleet",), logins=logins)
    try:
        with web_testing.running(services) as (server, client):
            logins.config = dataclasses.replace(logins.config, redirect_url=f"{server.url}/login/oidc/callback")

            def pause(cluster: str, value: str) -> int:
                return client.post(f"/api/v1/clusters/{cluster}/pause",
                                   headers={"Authorization": f"Bearer {value}"}).status_code

            codes = [pause("c0", applied.read_token), pause("c0", APPROVER), pause("c0", OPERATOR), pause("c1", OPERATOR)]
            start = client.get("/login/oidc")
            client.get(httpx.get(start.headers["location"], timeout=10).headers["location"])
            csrf = {forms.FIELD: forms.token_for(client.cookies.get(access.COOKIE) or "")}  # a session's writes carry it
            sso = [client.post(f"/api/v1/clusters/{c}/pause", data=csrf).status_code for c in ("c0", "c2")]
    finally:
        provider.stop()
    refused = [c for c in codes[:3] + sso[:1] if c == 403]
    figures.bad_inputs_tried += 4
    figures.bad_inputs_rejected += len(refused)
    assert (codes, sso) == ([403, 403, 403, 200], [403, 200])
    assert sorted(c.name for c in applied.store.clusters.all() if c.paused) == ["c1", "c2"]
    messages = [e.message for e in applied.store.events.recent(limit=3)]
    assert "cluster c2 paused from the API by alice@example.dev" in messages
    assert "cluster c1 paused from the API by c1-ops" in messages
    stored = database_bytes(applied.state) + captured_logs.text().encode()
    assert [t for t in (OPERATOR, APPROVER, applied.read_token) if t.encode() in stored] == []
    applied.check(area=AREA, logs_text=captured_logs.text())
