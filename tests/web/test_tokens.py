"""Named tokens with scopes (read, approve, operate), limited to clusters and stacks, known by digest."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.errors import ConfigError
from reconciler.store.stores import Store
from reconciler.web import access, testing
from reconciler.web.access import NamedToken, Principal, Scope, Tokens
from reconciler.web.services import Services

OPERATOR, APPROVER, OUTSIDER = "op-token-1f2e3d", "approver-token-7a8b", "outsider-token-0000"


def named(value: str, name: str, scopes: set[Scope], *, clusters: tuple[str, ...] = (),
          stacks: tuple[str, ...] = ()) -> NamedToken:
    return NamedToken(name, access.digest(value), Principal(name, frozenset({Scope.READ, *scopes}), clusters, stacks))


TOKENS = Tokens.of(named=[named(OPERATOR, "eu-ops", {Scope.OPERATE}, clusters=("prod-eu-*",)),
                          named(APPROVER, "release-bot", {Scope.APPROVE}, stacks=("platform",))])


@pytest.mark.parametrize(
    ("principal", "scope", "cluster", "stack", "allowed"),
    [
        pytest.param(Principal("r"), Scope.READ, None, None, True, id="everyone-reads"),
        pytest.param(Principal("r"), Scope.OPERATE, "c", None, False, id="read-cannot-operate"),
        pytest.param(Principal("o", frozenset({Scope.OPERATE})), Scope.APPROVE, "c", "s", False,
                     id="operate-is-not-approve"),
        pytest.param(Principal("o", frozenset({Scope.OPERATE}), ("prod-*",)), Scope.OPERATE, "prod-eu-1", None, True,
                     id="cluster-pattern-matches"),
        pytest.param(Principal("o", frozenset({Scope.OPERATE}), ("prod-*",)), Scope.OPERATE, "dev-eu-1", None, False,
                     id="cluster-pattern-refuses-others"),
        pytest.param(Principal("o", frozenset({Scope.OPERATE}), ("prod-*",)), Scope.OPERATE, None, None, False,
                     id="limited-token-cannot-act-fleet-wide"),
        pytest.param(Principal("a", frozenset({Scope.APPROVE}), (), ("platform",)), Scope.APPROVE, "c", "platform",
                     True, id="stack-limit-matches"),
        pytest.param(Principal("a", frozenset({Scope.APPROVE}), (), ("platform",)), Scope.APPROVE, "c", None, False,
                     id="stack-limited-token-cannot-act-on-a-whole-cluster"),
    ],
)
def test_principal_may(principal: Principal, scope: Scope, cluster: str | None, stack: str | None,
                       allowed: bool) -> None:
    assert principal.may(scope, cluster=cluster, stack=stack) is allowed


def test_tokens_are_kept_as_digests_only() -> None:
    tokens = Tokens.of(read=["plain-read-token"], admin=["plain-admin-token"])
    assert "plain-read-token" not in repr(tokens) and "plain-admin-token" not in repr(tokens)
    assert [tokens.principal_of(t).name for t in ("plain-read-token", "plain-admin-token")] == [
        "read-token", "admin-token"]
    assert tokens.principal_of("plain-read-token-but-longer") is None and tokens.principal_of("") is None


def test_no_token_at_all_is_refused() -> None:
    with pytest.raises(ConfigError):
        Tokens.of()


def test_pause_needs_operate_on_that_cluster_and_names_who_did_it(
    store: Store, make_services: Callable[..., Services]
) -> None:
    with testing.running(make_services(store, tokens=TOKENS)) as (_, client):
        def pause(cluster: str, token: str) -> int:
            return client.post(f"/api/v1/clusters/{cluster}/pause",
                               headers={"Authorization": f"Bearer {token}"}).status_code

        codes = [pause("prod-eu-1", APPROVER), pause("dev-eu-1", OPERATOR), pause("prod-eu-1", OUTSIDER),
                 pause("prod-eu-1", OPERATOR)]
    assert codes == [403, 403, 401, 200]
    [event] = store.events.recent()
    assert (event.reason, event.message) == ("Paused", "cluster prod-eu-1 paused from the API by eu-ops")
