"""Who may see and do what: named tokens with scopes, and the legacy read-only and admin tokens.

A token is known by its name and the sha256 digest of its value (``digest``), never the value: the
settings hold ``sha256:<hex>`` and the check hashes what a request presents. Scopes are ``read`` (every
token can read the whole fleet), ``approve`` (approve rollout stages and steps) and ``operate``
(pause, resume, heal, sync); approve and operate may be limited to clusters and stacks (shell-style
patterns, ``prod-*``). The legacy ``read_token`` is ``read``; the legacy ``admin_token`` holds every
scope everywhere. A route gates an operation with ``guards.require(request, Scope.OPERATE,
cluster=..., stack=...)``, which returns the ``Principal`` (its ``name`` goes into the events).

A request proves itself with ``Authorization: Bearer <token>`` (scripts, the API) or with the
``stackfleet_session`` cookie that ``POST /login`` sets after checking a token typed into the login
form (browsers). The cookie holds the token itself; it is ``HttpOnly``, ``SameSite=Strict`` (so no
other site can make a browser send it) and ``Secure`` when the app is served over HTTPS. Every
comparison is constant-time. Health probes, the login form, static files and the webhook routes (which
check their own HMAC signatures) need no token; everything else does, and writes need ``admin``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from reconciler.errors import ConfigError

COOKIE = "stackfleet_session"
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/login", "/logout", "/login/oidc", "/login/oidc/callback"})
OIDC_STATE_COOKIE = "stackfleet_oidc_state"
PUBLIC_PREFIXES = ("/static/", "/hooks/")


class Role(IntEnum):
    """Ranked: a role may do everything the roles below it may."""

    NONE = 0
    READ = 1
    ADMIN = 2


class Scope(StrEnum):
    """What a token may do; every token may read."""

    READ = "read"
    APPROVE = "approve"
    OPERATE = "operate"


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class Principal:
    """Who made a request: a token's name, its scopes and the clusters and stacks it is limited to."""

    name: str
    scopes: frozenset[Scope] = frozenset({Scope.READ})
    clusters: tuple[str, ...] = ()
    """Patterns of the clusters approve/operate apply to; empty: every cluster."""
    stacks: tuple[str, ...] = ()
    """Patterns of the stacks approve/operate apply to; empty: every stack."""
    more: tuple[Principal, ...] = ()
    """Further grants of the same person, each with its own limits (an OIDC user in several groups)."""

    def may(self, scope: Scope, *, cluster: str | None = None, stack: str | None = None) -> bool:
        """True when this principal (or one of its further grants) holds ``scope`` for ``cluster`` and ``stack``.

        A limited principal acting on something it cannot name (``None``: the whole fleet, or a whole
        cluster for a stack-limited token) is refused."""
        if scope is Scope.READ:
            return True
        if any(g.may(scope, cluster=cluster, stack=stack) for g in self.more):
            return True
        if scope not in self.scopes:
            return False
        return _within(cluster, self.clusters) and _within(stack, self.stacks)

    @property
    def role(self) -> Role:
        extra = any(g.role is Role.ADMIN for g in self.more)
        return Role.ADMIN if extra or self.scopes - {Scope.READ} else Role.READ


def _within(name: str | None, patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return True
    return name is not None and any(fnmatch.fnmatchcase(name, p) for p in patterns)


def digest(token: str) -> str:
    """How a token is stored: ``sha256:<hex>`` of its value."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NamedToken:
    """A token as configured: its name, the digest of its value, and what it may do."""

    name: str
    digest: str
    principal: Principal


@dataclass(frozen=True)
class Tokens:
    """The accepted tokens, by digest; empty tokens are refused when built."""

    named: tuple[NamedToken, ...] = ()

    @classmethod
    def of(cls, *, read: Iterable[str] = (), admin: Iterable[str] = (),
           named: Iterable[NamedToken] = ()) -> Tokens:
        """``read``/``admin``: legacy token values (hashed here); ``named``: tokens known by digest."""
        read, admin, given = list(read), list(admin), list(named)
        if any(not t.strip() for t in (*read, *admin)):
            raise ConfigError("an access token is empty: refusing to serve the dashboard with it")
        legacy = [NamedToken("admin-token", digest(t), Principal("admin-token", ALL_SCOPES)) for t in admin]
        legacy += [NamedToken("read-token", digest(t), Principal("read-token")) for t in read]
        if not (legacy or given):
            raise ConfigError("no access token configured: the dashboard needs at least one")
        return cls(named=(*legacy, *given))

    def principal_of(self, token: str) -> Principal | None:
        """Who ``token`` is (``None`` when it matches none); compares with every digest in constant time."""
        if not token:
            return None
        given = digest(token).encode()
        matches = [t for t in self.named if hmac.compare_digest(given, t.digest.encode())]
        return matches[0].principal if matches else None

    def role_of(self, token: str) -> Role:
        """The role ``token`` grants (``NONE`` when it matches none)."""
        found = self.principal_of(token)
        return found.role if found is not None else Role.NONE


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def presented(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str:
    """The token a request carries: the bearer token, else the session cookie, else ``""``."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return cookies.get(COOKIE, "")


def safe_next(target: str) -> str:
    """Where to go after logging in: a path on this site only (no scheme, no ``//host``)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
