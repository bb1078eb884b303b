"""Daemon settings: a YAML file, overridden by environment variables, validated by pydantic.

``load(path)`` reads the file with ``spec.yamldocs`` (so every error names ``file:line``), applies
``STACKFLEET_<SECTION>__<FIELD>`` variables (``STACKFLEET_WEB__LISTEN=127.0.0.1:9000``; nested
fields take more ``__``: ``STACKFLEET_WEB__ADMIN_TOKEN__FILE``; a source is named by its name:
``STACKFLEET_SOURCES__FLEET__REF=release``), and validates the result. Values of variables are read
as YAML scalars or flow collections (``true``, ``30s``, ``[a, b]``). Problems come out together in one
``ConfigError``, each naming its field and its ``file:line`` or its variable.

Secrets are never written inline: tokens, passwords and webhook secrets are ``SecretRef``s naming a
file or an environment variable, read only when the daemon needs them (``reveal``). This module is
the only reader of ``os.environ`` for the daemon. Relative paths are relative to the config file.
``stackfleet.example.yaml`` at the repository root documents every field.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reconciler import redactions
from reconciler.errors import ConfigError, Location, YamlError
from reconciler.spec import yamldocs

ENV_PREFIX = "STACKFLEET_"
DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$")
NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def parse_duration(value: Any) -> Any:
    """Seconds from a number or a string like ``90``, ``30s``, ``5m``, ``1h30m``."""
    if not isinstance(value, str) or re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return value
    match = DURATION.match(value)
    if not match or not any(match.groups()):
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. 30s, 5m, 1h30m)")
    hours, minutes, seconds = (float(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _relative_to_file(path: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base")
    path = path.expanduser()
    return path if path.is_absolute() or base is None else Path(base) / path


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Pause = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
FilePath = Annotated[Path, AfterValidator(_relative_to_file)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(Model):
    """A secret kept outside the config: in a file (``file``) or an environment variable (``env``)."""

    file: FilePath | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of 'file' or 'env'")
        return self


class SourceCredentials(Model):
    username: str | None = None
    password: SecretRef | None = None
    token: SecretRef | None = None
    ssh_key: FilePath | None = None
    ssh_passphrase: SecretRef | None = None
    known_hosts: FilePath | None = None

    @model_validator(mode="after")
    def _ssh_needs_known_hosts(self) -> SourceCredentials:
        if self.ssh_key is not None and self.known_hosts is None:
            raise ValueError("an ssh_key needs a pinned known_hosts file")
        return self


class Verification(Model):
    mode: Literal["none", "gpg", "ssh"] = "none"
    keys: list[FilePath] = Field(default_factory=list)
    """gpg: armored public key files; ssh: allowed_signers files."""

    @model_validator(mode="after")
    def _keys_when_verifying(self) -> Verification:
        if self.mode != "none" and not self.keys:
            raise ValueError(f"verification mode {self.mode!r} needs at least one key file")
        return self


class Forge(Model):
    """Where a source's pull requests live: GitHub or GitLab, the repository, the API and a token."""

    kind: Literal["github", "gitlab"]
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
    """``owner/repo`` (GitHub) or ``group/[subgroup/]project`` (GitLab)."""
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    """Default: https://api.github.com or https://gitlab.com/api/v4 (set it for GitHub Enterprise or self-hosted GitLab)."""
    token: SecretRef


PR_REFS = {"github": "refs/pull/*/head", "gitlab": "refs/merge-requests/*/head"}


class PullRequests(Model):
    """Plan every new head of an open pull request with the daemon's state; post it when a forge is set."""

    refs: str | None = Field(default=None, pattern=r"^refs/[A-Za-z0-9_./-]*\*[A-Za-z0-9_./-]*$")
    """Ref pattern of PR heads, ``*`` the number (default by forge kind; refs/pull/*/head without one)."""
    discover: Literal["refs", "api"] = "refs"
    """``refs``: the heads the remote advertises under ``refs``; ``api``: the forge's list of open PRs."""
    forge: Forge | None = None
    forks: bool = False
    """With ``discover: api``: plan pull requests from forks too (their heads are untrusted input)."""
    dashboard_url: str = Field(default="", pattern=r"^(https?://.*)?$")
    """The dashboard's public URL, for links from comments and statuses to the full plan."""

    @model_validator(mode="after")
    def _api_needs_a_forge(self) -> PullRequests:
        if self.discover == "api" and self.forge is None:
            raise ValueError("discover: api lists open pull requests through the forge; set forge")
        return self

    @property
    def ref_pattern(self) -> str:
        return self.refs or PR_REFS[self.forge.kind if self.forge else "github"]


class Source(Model):
    name: str = Field(pattern=NAME)
    url: str
    ref: str = "main"
    credentials: SourceCredentials = SourceCredentials()
    poll_interval: Duration = 60.0
    poll_jitter: Pause = 5.0
    timeout: Duration = 60.0
    verification: Verification = Verification()
    pull_requests: PullRequests | None = None

    @field_validator("url")
    @classmethod
    def _no_inline_credentials(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.password or (parts.scheme in ("http", "https") and parts.username):
            raise ValueError("the URL holds credentials; use credentials.password or credentials.token")
        return url


class Kube(Model):
    kubeconfig: FilePath | None = None
    """The operator's kubeconfig; unset: ``$KUBECONFIG`` (a list, as kubectl reads it), then ~/.kube/config."""
    exec_allow: list[str] = Field(default_factory=list)
    """Commands a kubeconfig ``exec`` plugin may run; any other plugin (or auth-provider) is refused."""
    in_cluster_context: str = "in-cluster"
    """Running in a pod: the context name under which the pod's ServiceAccount reaches its own cluster."""


class Intervals(Model):
    reconcile: Duration = 300.0
    drift: Duration = 600.0


class Concurrency(Model):
    max_clusters: int = Field(default=16, ge=1)
    qps: float = Field(default=20.0, gt=0)
    burst: int = Field(default=40, ge=1)


class Policy(Model):
    prune: bool = True
    self_heal: bool = False
    allow_empty: bool = False
    delete_budget_percent: float = Field(default=30.0, ge=0, le=100)
    approve_kinds: list[str] = Field(
        default_factory=lambda: ["Namespace", "CustomResourceDefinition", "PersistentVolumeClaim"]
    )


class State(Model):
    database: str = "stackfleet.db"
    """A SQLite file path (relative to the config file) or a database URL."""
    retention: Duration = 30 * 86_400.0
    """Finished apply runs (with their steps) and events older than this are deleted."""
    keep_runs: int = Field(default=100, ge=1)
    """The newest finished runs kept whatever their age."""

    @field_validator("database")
    @classmethod
    def _path_relative_to_file(cls, database: str, info: ValidationInfo) -> str:
        if "://" in database or database == ":memory:":
            return database
        return str(_relative_to_file(Path(database), info))


class Replicas(Model):
    """Several daemons sharing one fleet (and one PostgreSQL store): membership and ownership by Lease."""

    enabled: bool = False
    context: str | None = None
    """The kubeconfig context of the cluster holding the Leases; unset: ``kube.in_cluster_context``."""
    namespace: str = Field(default="stackfleet", pattern=NAME)
    group: str = Field(default="stackfleet", pattern=NAME)
    """Replicas of one group share a fleet; another group in the same namespace is another deployment."""
    identity: str | None = None
    """This replica's name; unset: ``$POD_NAME`` (a StatefulSet's pod), else ``<hostname>-<pid>``."""
    lease_duration: Duration = 15.0


class Webhooks(Model):
    github: SecretRef | None = None
    gitlab: SecretRef | None = None
    generic: SecretRef | None = None


TokenScope = Literal["read", "approve", "operate"]
"""The values of ``web.access.Scope`` (converted there)."""


class NamedToken(Model):
    """A dashboard/API token known by name and the sha256 of its value (``printf %s TOKEN | sha256sum``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[TokenScope] = Field(default_factory=lambda: list[TokenScope](["read"]))
    clusters: list[str] = Field(default_factory=list)
    """Shell-style patterns of the clusters ``approve``/``operate`` apply to (empty: all)."""
    stacks: list[str] = Field(default_factory=list)
    """Shell-style patterns of the stacks ``approve``/``operate`` apply to (empty: all)."""


class OidcGroup(Model):
    """What members of one OIDC group may do (the ID token's ``groups`` claim)."""

    scopes: list[TokenScope] = Field(default_factory=lambda: list[TokenScope](["read"]))
    clusters: list[str] = Field(default_factory=list)
    stacks: list[str] = Field(default_factory=list)


class Oidc(Model):
    """OIDC login for the dashboard (authorization code + PKCE)."""

    issuer: str = Field(pattern=r"^https?://")
    client_id: str = Field(min_length=1)
    client_secret: SecretRef | None = None
    """Unset: a public client (PKCE alone)."""
    redirect_url: str = Field(pattern=r"^https?://.+/login/oidc/callback$")
    groups_claim: str = "groups"
    groups: dict[str, OidcGroup] = Field(default_factory=dict)


class Web(Model):
    listen: str = Field(default="127.0.0.1:8080", pattern=r"^\[?[0-9A-Za-z.:-]+\]?:\d{1,5}$")
    read_token: SecretRef | None = None
    admin_token: SecretRef | None = None
    tokens: list[NamedToken] = Field(default_factory=list)
    oidc: Oidc | None = None
    webhooks: Webhooks = Webhooks()


class Settings(Model):
    sources: list[Source] = Field(default_factory=list)
    kube: Kube = Kube()
    intervals: Intervals = Intervals()
    concurrency: Concurrency = Concurrency()
    policy: Policy = Policy()
    state: State = State()
    web: Web = Web()
    replicas: Replicas = Replicas()

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[Source]) -> list[Source]:
        names = [s.name for s in sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicate source names: {', '.join(duplicated)}")
        return sources


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Raw:
    data: dict[str, Any]
    lines: yamldocs.LineIndex
    file: str
    overrides: dict[tuple[str | int, ...], str]
    """Field path -> the environment variable that set it."""


def load(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``path`` with the environment's overrides; raises ``ConfigError``."""
    raw = _read(Path(path))
    env = os.environ if environ is None else environ
    raw = _with_overrides(raw, env)
    try:
        return Settings.model_validate(raw.data, context={"base": Path(path).resolve().parent})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, raw), file=str(path)) from None


SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class KubeAccess:
    """Where the daemon's clusters are reached from: kubeconfig files and, in a pod, its ServiceAccount."""

    kubeconfig: str | None
    """One path or an ``os.pathsep`` list, as ``KUBECONFIG`` holds them."""
    in_cluster_server: str | None = None
    ca_file: str = str(SERVICE_ACCOUNT / "ca.crt")
    token_file: str = str(SERVICE_ACCOUNT / "token")
    in_cluster_context: str = "in-cluster"


def kube_access(kube: Kube, *, environ: Mapping[str, str] | None = None,
                service_account: Path = SERVICE_ACCOUNT) -> KubeAccess:
    """The file setting, else ``KUBECONFIG``; in a pod (``KUBERNETES_SERVICE_HOST`` and a mounted token)
    the in-cluster API server too (https, as client-go's ``InClusterConfig`` builds it)."""
    env = os.environ if environ is None else environ
    kubeconfig = str(kube.kubeconfig) if kube.kubeconfig else (env.get("KUBECONFIG") or None)
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT", "443")
    server = None
    if host and (service_account / "token").is_file():
        server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    return KubeAccess(kubeconfig, server, ca_file=str(service_account / "ca.crt"),
                      token_file=str(service_account / "token"), in_cluster_context=kube.in_cluster_context)


SOPS_AGE_KEY, SOPS_AGE_KEY_FILE = "SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"


def sops_age_keys(*, environ: Mapping[str, str] | None = None) -> str:
    """The age identities for SOPS-encrypted manifests, as sops itself finds them: the keys in
    ``SOPS_AGE_KEY`` and the keys file named by ``SOPS_AGE_KEY_FILE`` (``""`` when neither is set).
    Each key is registered with the redactor. An unreadable keys file is a ``ConfigError``."""
    env = os.environ if environ is None else environ
    text = env.get(SOPS_AGE_KEY, "")
    path = env.get(SOPS_AGE_KEY_FILE, "")
    if path:
        try:
            text += "\n" + Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the age keys file {path} ({SOPS_AGE_KEY_FILE}): {exc.strerror}") from None
    for line in text.splitlines():
        if line.strip().startswith("AGE-SECRET-KEY-"):
            redactions.DEFAULT.register(line.strip())
    return text


def replica_identity(replicas: Replicas, *, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return replicas.identity or env.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


def reveal(ref: SecretRef, *, environ: Mapping[str, str] | None = None) -> str:
    """The secret ``ref`` points at, registered with the redactor so no log or row shows it.

    A missing file or variable, or an empty one, is a ``ConfigError``.
    """
    value = _read_secret(ref, environ=os.environ if environ is None else environ)
    redactions.DEFAULT.register(value)
    return value


def _read_secret(ref: SecretRef, *, environ: Mapping[str, str]) -> str:
    if ref.env is not None:
        value = environ.get(ref.env, "").strip()
        if not value:
            raise ConfigError(f"environment variable {ref.env} is not set or empty")
        return value
    try:
        value = Path(str(ref.file)).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {str(ref.file)!r}: {exc.strerror}") from None
    if not value:
        raise ConfigError(f"secret file {str(ref.file)!r} is empty")
    return value


def _read(path: Path) -> _Raw:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}", file=str(path)) from None
    try:
        docs = yamldocs.load_documents(data, file=str(path))
    except YamlError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    if len(docs) > 1:
        raise ConfigError(f"{Location(str(path), docs[1].line)}: the config file holds one YAML document")
    if docs and not isinstance(docs[0].data, dict):
        raise ConfigError(f"{Location(str(path), docs[0].line)}: the config file must be a mapping")
    doc = docs[0] if docs else None
    return _Raw(dict(doc.data) if doc else {}, doc.lines if doc else yamldocs.LineIndex(), str(path), {})


def _with_overrides(raw: _Raw, environ: Mapping[str, str]) -> _Raw:
    overrides: dict[tuple[str | int, ...], str] = {}
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and "__" in name:
            target = _env_path(name, raw.data)
            _set(raw.data, target, _env_value(name, environ[name]))
            overrides[target] = name
    return _Raw(raw.data, raw.lines, raw.file, overrides)


def _env_path(name: str, data: dict[str, Any]) -> tuple[str | int, ...]:
    parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
    if parts[0] != "sources":
        return tuple(parts)
    if len(parts) < 3:
        raise ConfigError(f"{name}: name a source and a field (STACKFLEET_SOURCES__<NAME>__<FIELD>)")
    wanted = parts[1].replace("_", "-")
    found = data.get("sources")
    sources: list[Any] = found if isinstance(found, list) else []
    for index, source in enumerate(sources):
        if isinstance(source, dict) and str(source.get("name", "")).lower() == wanted:
            return ("sources", index, *parts[2:])
    raise ConfigError(f"{name}: there is no source named {wanted!r} in the config file")


def _env_value(name: str, text: str) -> Any:
    try:
        docs = yamldocs.load_documents(text.encode(), file=f"${name}")
    except YamlError as exc:
        raise ConfigError(f"{name}: {exc.reason}") from None
    return docs[0].data if docs else ""


def _set(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        if isinstance(part, int):
            node = node[part]
            continue
        if not isinstance(node.get(part), dict | list):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def _describe(exc: ValidationError, raw: _Raw) -> str:
    lines = [f"  {_where(err['loc'], raw)}: {_message(err)}" for err in exc.errors(include_url=False)]
    return f"invalid daemon configuration ({len(lines)} problem(s)):\n" + "\n".join(lines)


def _where(loc: tuple[Any, ...], raw: _Raw) -> str:
    path = tuple(p for p in loc if isinstance(p, str | int))
    dotted = ".".join(str(p) for p in path)
    for end in range(len(path), 0, -1):
        variable = raw.overrides.get(path[:end])
        if variable:
            return f"environment variable {variable} ({dotted})"
    return str(Location(raw.file, raw.lines.line_of(path), dotted or None))


def _message(err: Any) -> str:
    loc = err["loc"]
    if err["type"] == "extra_forbidden":
        return f"unknown field {loc[-1]!r}"
    if err["type"] == "missing":
        return f"missing required field {loc[-1]!r}"
    return str(err["msg"]).removeprefix("Value error, ")
