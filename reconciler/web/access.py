"""Who may see what: access tokens with a read-only or an admin role.

A request proves itself with ``Authorization: Bearer <token>`` (scripts, the API) or with the
``stackfleet_session`` cookie that ``POST /login`` sets after checking a token typed into the login
form (browsers). The cookie holds the token itself; it is ``HttpOnly``, ``SameSite=Strict`` (so no
other site can make a browser send it) and ``Secure`` when the app is served over HTTPS. Every
comparison is constant-time. Health probes, the login form, static files and the webhook routes (which
check their own HMAC signatures) need no token; everything else does, and writes need ``admin``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from reconciler.errors import ConfigError

COOKIE = "stackfleet_session"
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/login", "/logout"})
PUBLIC_PREFIXES = ("/static/", "/hooks/")


class Role(IntEnum):
    """Ranked: a role may do everything the roles below it may."""

    NONE = 0
    READ = 1
    ADMIN = 2


@dataclass(frozen=True)
class Tokens:
    """The accepted tokens per role; empty tokens are refused when built."""

    read: tuple[str, ...] = ()
    admin: tuple[str, ...] = ()

    @classmethod
    def of(cls, *, read: Iterable[str] = (), admin: Iterable[str] = ()) -> Tokens:
        tokens = cls(read=tuple(read), admin=tuple(admin))
        if any(not t.strip() for t in (*tokens.read, *tokens.admin)):
            raise ConfigError("an access token is empty: refusing to serve the dashboard with it")
        if not tokens.admin and not tokens.read:
            raise ConfigError("no access token configured: the dashboard needs at least one")
        return tokens

    def role_of(self, token: str) -> Role:
        """The role ``token`` grants (``NONE`` when it matches none); checks every token in constant time."""
        given = token.encode()
        admin = any([hmac.compare_digest(given, t.encode()) for t in self.admin])
        read = any([hmac.compare_digest(given, t.encode()) for t in self.read])
        return Role.ADMIN if admin else Role.READ if read else Role.NONE


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
