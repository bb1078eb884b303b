"""Credentials for Git remotes, and the URL redaction every log line and error goes through.

Credentials come from the operator (files or environment variables), never from the fleet repo. The
secret parts are ``Secret`` values whose ``repr``/``str`` never show the value, so an accidental log
line or error message prints ``***``.

Environment (``from_env``), with ``STACKFLEET_GIT_`` as the default prefix; every ``X`` also accepts
``X_FILE`` naming a file that holds the value:

- ``TOKEN``: an HTTPS token, sent as the password of ``USERNAME`` (default ``x-access-token``);
- ``USERNAME`` + ``PASSWORD``: HTTPS basic auth;
- ``SSH_KEY`` (a private key file), ``SSH_KNOWN_HOSTS`` (required: the pinned host keys),
  optionally ``SSH_PUBLIC_KEY``, ``SSH_PASSPHRASE`` and ``USERNAME`` (default ``git``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from reconciler.errors import ConfigError

MASK = "***"


class Secret:
    """A secret string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ConfigError("a credential secret must not be empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class TokenAuth:
    """An HTTPS token, sent through basic auth as the password of ``username``."""

    token: Secret
    username: str = "x-access-token"


@dataclass(frozen=True)
class BasicAuth:
    """HTTPS basic auth."""

    username: str
    password: Secret


@dataclass(frozen=True)
class SshKeyAuth:
    """An SSH key pair; ``known_hosts`` pins the host keys we accept (unknown or changed ones are refused)."""

    private_key: Path
    known_hosts: Path
    public_key: Path | None = None
    passphrase: Secret | None = None
    username: str = "git"

    def __post_init__(self) -> None:
        for path in (self.private_key, self.known_hosts):
            if not path.is_file():
                raise ConfigError(f"SSH credential file {str(path)!r} does not exist")
        if not self.known_hosts.read_text().strip():
            raise ConfigError(
                f"known_hosts file {str(self.known_hosts)!r} is empty: no host would be trusted"
            )


Credentials = TokenAuth | BasicAuth | SshKeyAuth


def secrets_of(credentials: Credentials | None) -> list[Secret]:
    """The secret values inside ``credentials`` (to scrub them from messages)."""
    if isinstance(credentials, TokenAuth):
        return [credentials.token]
    if isinstance(credentials, BasicAuth):
        return [credentials.password]
    if isinstance(credentials, SshKeyAuth) and credentials.passphrase:
        return [credentials.passphrase]
    return []


def from_env(env: Mapping[str, str], *, prefix: str = "STACKFLEET_GIT_") -> Credentials | None:
    """Credentials described by ``env`` (see the module docstring), or ``None`` when there are none."""
    read = _EnvReader(env, prefix)
    ssh_key = read.value("SSH_KEY")
    if ssh_key:
        return _ssh_from(read, private_key=Path(ssh_key))
    token = read.value("TOKEN")
    if token:
        return TokenAuth(Secret(token), username=read.value("USERNAME") or "x-access-token")
    username, password = read.value("USERNAME"), read.value("PASSWORD")
    if username and password:
        return BasicAuth(username, Secret(password))
    if username or password:
        raise ConfigError(f"{prefix}USERNAME and {prefix}PASSWORD must be set together")
    return None


def _ssh_from(read: _EnvReader, *, private_key: Path) -> SshKeyAuth:
    known_hosts = read.value("SSH_KNOWN_HOSTS")
    if not known_hosts:
        raise ConfigError("an SSH key needs a pinned known_hosts file (SSH_KNOWN_HOSTS)")
    public_key = read.value("SSH_PUBLIC_KEY")
    passphrase = read.value("SSH_PASSPHRASE")
    return SshKeyAuth(
        private_key=private_key,
        known_hosts=Path(known_hosts),
        public_key=Path(public_key) if public_key else None,
        passphrase=Secret(passphrase) if passphrase else None,
        username=read.value("USERNAME") or "git",
    )


class _EnvReader:
    """``PREFIX_NAME`` from the environment, or the content of the file named by ``PREFIX_NAME_FILE``."""

    def __init__(self, env: Mapping[str, str], prefix: str) -> None:
        self._env = env
        self._prefix = prefix

    def value(self, name: str) -> str | None:
        direct = self._env.get(self._prefix + name)
        if direct:
            return direct
        path = self._env.get(f"{self._prefix}{name}_FILE")
        if not path:
            return None
        try:
            return Path(path).read_text().strip() or None
        except OSError as exc:
            raise ConfigError(f"cannot read {self._prefix}{name}_FILE {path!r}: {exc.strerror}") from None


_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with any password or token in its user part replaced by ``***``.

    ``https://user:pw@host/x`` gives ``https://user:***@host/x``; ``https://tok@host`` gives
    ``https://***@host``; scp-like ``git@host:path`` has no secret and is returned unchanged.
    """
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    keep_user = has_password or parts.scheme == "ssh"  # an ssh user is a login name, not a token
    masked = f"{user}:{MASK}" if has_password else (user if keep_user else MASK)
    return urlunsplit(parts._replace(netloc=f"{masked}@{host}"))


def strip_userinfo(url: str) -> str:
    """``url`` without its user part (a stable key for a remote, whoever logs in)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def redact(text: str, *, secrets: Iterable[Secret] = ()) -> str:
    """``text`` with URL credentials and every value in ``secrets`` masked."""
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    for secret in secrets:
        text = text.replace(secret.reveal(), MASK)
    return text
