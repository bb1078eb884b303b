"""OIDC login for the dashboard: the authorization code flow with PKCE, and group -> scope mapping.

::

    logins = oidc.Logins(oidc.Config(issuer="https://idp.example", client_id="stackfleet",
                                     redirect_url="https://stackfleet.example/login/oidc/callback",
                                     grants={"sre": oidc.Grant(frozenset({Scope.OPERATE}))}))
    url, state = logins.begin(next_path="/", now=now)        # GET /login/oidc redirects there
    sid, who, next_path = logins.finish(state=state, code=code, now=now)  # GET /login/oidc/callback

``begin`` makes a ``state``, a ``nonce`` and a PKCE verifier (RFC 7636, S256) and remembers them for
``PENDING_SECONDS``; the browser is sent to the provider's ``authorization_endpoint`` (read from
``<issuer>/.well-known/openid-configuration``). ``finish`` takes the pending login by its state (once),
trades the code and the verifier for tokens at the ``token_endpoint`` and validates the ID token with
PyJWT against the provider's JWKS: signature (RS256/ES256), ``iss``, ``aud`` = our client id, ``exp``,
``iat`` and the ``nonce``. The person is ``Principal(<email or sub>)``: ``read``, plus the grants of
every group in the ``groups`` claim that ``Config.grants`` maps. The session cookie holds a random id;
only its sha256 is kept, with the principal, for ``SESSION_SECONDS``. Logins and sessions live in this
process (replicas behind one URL need sticky sessions). docs/adr/0019-tokens-and-oidc.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt

from reconciler.errors import ConfigError
from reconciler.web.access import Principal, Scope, digest

PENDING_SECONDS = 600
SESSION_SECONDS = 12 * 3600
TIMEOUT = 10.0
ALGORITHMS = ["RS256", "ES256"]


class LoginFailed(Exception):
    """The provider's answer did not prove who the person is; ``str()`` is safe to show."""


@dataclass(frozen=True)
class Grant:
    """What members of one group may do."""

    scopes: frozenset[Scope]
    clusters: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    redirect_url: str
    client_secret: str | None = None
    """None: a public client (PKCE alone)."""
    scopes: tuple[str, ...] = ("openid", "profile", "email", "groups")
    groups_claim: str = "groups"
    name_claims: tuple[str, ...] = ("email", "preferred_username", "sub")
    grants: Mapping[str, Grant] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    verifier: str
    nonce: str
    next_path: str
    started: datetime


class Logins:
    """Pending logins and open sessions of one process (see the module docstring)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._pending: dict[str, Pending] = {}
        self._sessions: dict[str, tuple[Principal, datetime]] = {}
        self._lock = threading.Lock()
        self._discovered: Mapping[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None

    def begin(self, *, next_path: str, now: datetime) -> tuple[str, str]:
        """The provider's authorization URL for a new login, and its state."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        with self._lock:
            self._pending = {s: p for s, p in self._pending.items() if now - p.started < timedelta(seconds=PENDING_SECONDS)}
            self._pending[state] = Pending(verifier, nonce, next_path, now)
        query = {"response_type": "code", "client_id": self.config.client_id, "redirect_uri": self.config.redirect_url,
                 "scope": " ".join(self.config.scopes), "state": state, "nonce": nonce,
                 "code_challenge": challenge_of(verifier), "code_challenge_method": "S256"}
        return f"{self._endpoint('authorization_endpoint')}?{urllib.parse.urlencode(query)}", state

    def finish(self, *, state: str, code: str, now: datetime) -> tuple[str, Principal, str]:
        """Complete a login: (session id, principal, where to go next); ``LoginFailed`` when not proven."""
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or now - pending.started >= timedelta(seconds=PENDING_SECONDS):
            raise LoginFailed("this login expired or was never started here; log in again")
        claims = self._claims(self._id_token(code, pending.verifier), nonce=pending.nonce)
        who = principal_of(claims, self.config)
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[digest(session)] = (who, now + timedelta(seconds=SESSION_SECONDS))
        return session, who, pending.next_path

    def principal_of(self, session: str, *, now: datetime) -> Principal | None:
        if not session:
            return None
        with self._lock:
            found = self._sessions.get(digest(session))
        return found[0] if found is not None and now < found[1] else None

    def end(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(digest(session), None)

    # -- the provider
    def _endpoint(self, name: str) -> str:
        if self._discovered is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            self._discovered = _get_json(url)
            if self._discovered.get("issuer") != self.config.issuer:
                raise ConfigError(f"OIDC discovery at {url} names another issuer: {self._discovered.get('issuer')!r}")
        value = self._discovered.get(name)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"the OIDC provider {self.config.issuer} publishes no {name}")
        return value

    def _id_token(self, code: str, verifier: str) -> str:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.config.redirect_url,
                "client_id": self.config.client_id, "code_verifier": verifier}
        if self.config.client_secret:
            form["client_secret"] = self.config.client_secret
        try:
            answer = _post_form(self._endpoint("token_endpoint"), form)
        except OSError as exc:
            raise LoginFailed(f"the OIDC provider refused the code: {exc}") from None
        token = answer.get("id_token")
        if not isinstance(token, str):
            raise LoginFailed("the OIDC provider returned no ID token")
        return token

    def _claims(self, token: str, *, nonce: str) -> Mapping[str, Any]:
        if self._keys is None:
            self._keys = jwt.PyJWKClient(self._endpoint("jwks_uri"), cache_keys=True, timeout=int(TIMEOUT))
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.config.client_id,
                                issuer=self.config.issuer, options={"require": ["exp", "iat", "sub", "nonce"]})
        except jwt.PyJWTError as exc:
            raise LoginFailed(f"the ID token is not valid: {exc}") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise LoginFailed("the ID token was issued for another login (nonce)")
        return claims


def challenge_of(verifier: str) -> str:
    """The PKCE S256 code challenge of ``verifier`` (RFC 7636 section 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def principal_of(claims: Mapping[str, Any], config: Config) -> Principal:
    """The person the claims name, with ``read`` and the grants of their mapped groups."""
    name = next((str(claims[c]) for c in config.name_claims if claims.get(c)), "")
    groups = claims.get(config.groups_claim) or []
    granted = [config.grants[g] for g in sorted(set(map(str, groups))) if g in config.grants] \
        if isinstance(groups, list) else []
    more = tuple(Principal(name, frozenset({Scope.READ, *g.scopes}), g.clusters, g.stacks) for g in granted)
    return Principal(name, frozenset({Scope.READ}), more=more)


def _get_json(url: str) -> Mapping[str, Any]:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
        return _json_object(answer.read())


def _post_form(url: str, form: Mapping[str, str]) -> Mapping[str, Any]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        return _json_object(answer.read())


def _json_object(body: bytes) -> Mapping[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise LoginFailed("the OIDC provider answered something other than a JSON object")
    return data
