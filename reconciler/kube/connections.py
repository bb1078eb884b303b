"""A client per fleet cluster, from a context of the operator's kubeconfig or from a kubeconfig Secret.

``Cluster.spec.connection`` says how: ``context`` names a context of ``--kubeconfig``;
``kubeconfigSecret`` names a Secret on another fleet cluster (as Cluster API writes them). Kubeconfigs
whose user runs an ``exec`` or ``auth-provider`` plugin are refused unless the operator allow-listed that
plugin (the command exactly as the kubeconfig spells it, a bare name or a full path, or the
auth-provider's name): a kubeconfig from a Secret or a repo must not make us run programs. TLS is exactly what the kubeconfig says. Each cluster gets its own token
bucket (QPS, burst) and retry policy; urllib3's own retries are off so a write is never re-sent behind
our back.

The operator's kubeconfig is a list of files, as ``KUBECONFIG`` is (``a:b``), merged as kubectl merges
them: the first file to define a cluster, user or context by name wins, and relative file references
resolve against the file that holds them. Running in a pod, the ServiceAccount's credentials
(``InCluster``) are one more context, named by the daemon settings (``kube.inClusterContext``).
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from reconciler.core.objects import ObjectKey
from reconciler.errors import ClusterAuthFailed, ClusterUnreachable, ConfigError, StackfleetError
from reconciler.kube import retries
from reconciler.kube.client import Client
from reconciler.kube.ratelimits import TokenBucket
from reconciler.kube.transports import ApiClientTransport
from reconciler.spec.models import Connection


class KubeconfigPending(ClusterUnreachable):
    """The kubeconfig Secret of a cluster does not exist yet (a cluster still being provisioned)."""


@dataclass(frozen=True)
class ClientSettings:
    qps: float = 50.0
    burst: int = 100
    attempts: int = 5
    backoff: float = 0.1
    timeout: float = 30.0
    allowed_plugins: frozenset[str] = frozenset()
    user_agent: str | None = None
    """Sent on every request (the API server's audit log records it): replicas name themselves."""


@dataclass(frozen=True)
class InCluster:
    """The pod's own API server and ServiceAccount credentials (files kubelet mounts and rotates)."""

    server: str
    ca_file: str
    token_file: str
    context: str = "in-cluster"

    def document(self) -> dict[str, Any]:
        name = self.context
        return {
            "clusters": [{"name": name, "cluster": {"server": self.server, "certificate-authority": self.ca_file}}],
            "users": [{"name": name, "user": {"tokenFile": self.token_file}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        }


@dataclass
class Connections:
    """Clients for the clusters in ``connections`` (name -> spec connection), made on first use."""

    connections: Mapping[str, Connection]
    kubeconfig_path: str | None = None
    """One kubeconfig file or several joined with ``os.pathsep``; default ``~/.kube/config``."""
    settings: ClientSettings = field(default_factory=ClientSettings)
    in_cluster: InCluster | None = None
    fence: Callable[[str], None] | None = None
    """Asked with the cluster's name before every write (see ``Client.fence``)."""
    _clients: dict[str, Client] = field(default_factory=dict)
    _derived: dict[str, Connection] = field(default_factory=dict)
    _kubeconfig: dict[str, Any] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def client(self, name: str) -> Client:
        """The client of cluster ``name``; raises ``ClusterError`` (or ``ConfigError``) when it cannot be built."""
        with self._lock:
            if name not in self._clients:
                self._clients[name] = self._build(name)
            return self._clients[name]

    def derive(self, name: str, connection: Connection) -> None:
        """Reach ``name``, which is not (or no longer) in the fleet, through ``connection`` (a child
        leaving the fleet, reached through its Cluster API kubeconfig Secret until it is deleted)."""
        with self._lock:
            if name not in self.connections:
                self._derived[name] = connection

    def forget(self, name: str) -> None:
        """Drop a cached client (say, after its kubeconfig Secret was rotated)."""
        with self._lock:
            self._clients.pop(name, None)

    def close(self) -> None:
        with self._lock:
            for built in self._clients.values():
                built.transport.close()
            self._clients.clear()

    def read_kubeconfig(self) -> None:
        """Read the operator's kubeconfig now if a cluster is reached by context (``ConfigError`` if unreadable)."""
        if any(c.context is not None for c in self.connections.values()):
            self._operator_kubeconfig()

    def _build(self, name: str) -> Client:
        connection = self.connections.get(name) or self._derived.get(name)
        if connection is None:
            raise ConfigError(f"cluster {name!r} is not in the fleet", cluster=name)
        if connection.context is not None:
            return self._from_document(name, self._operator_kubeconfig(), context=connection.context)
        ref = connection.kubeconfig_secret
        assert ref is not None
        document = self._secret_kubeconfig(name, ref.cluster, ref.namespace, ref.name, ref.key)
        return self._from_document(name, document, context=None)

    def _operator_kubeconfig(self) -> dict[str, Any]:
        if self._kubeconfig is None:
            documents = [read_file(path) for path in self._kubeconfig_files()]
            if self.in_cluster is not None:
                documents.append(self.in_cluster.document())
            self._kubeconfig = merge(documents)
        return self._kubeconfig

    def _kubeconfig_files(self) -> list[str]:
        paths = [os.path.expanduser(p) for p in (self.kubeconfig_path or "").split(os.pathsep) if p]
        if not paths:
            default = os.path.expanduser("~/.kube/config")
            if self.in_cluster is not None and not os.path.exists(default):
                return []
            if not os.path.exists(default):
                raise ConfigError(f"cannot read kubeconfig {default}: no such file (give --kubeconfig or set KUBECONFIG)")
            return [default]
        existing = [p for p in paths if os.path.exists(p)]
        if not existing and self.in_cluster is None:
            raise ConfigError(f"cannot read kubeconfig {os.pathsep.join(paths)}: no such file")
        return existing

    def _secret_kubeconfig(self, name: str, holder: str, namespace: str, secret: str, key: str) -> dict[str, Any]:
        where = f"Secret {namespace}/{secret} on cluster {holder}"
        found = self.client(holder).get(ObjectKey("", "Secret", namespace, secret))
        if found is None:
            raise KubeconfigPending(f"kubeconfig {where} does not exist yet", cluster=name)
        try:
            text = base64.b64decode((found.get("data") or {}).get(key, ""), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ClusterAuthFailed(f"kubeconfig {where} key {key!r} is not valid base64 text", cluster=name) from None
        return parse(text, where=where)

    def _from_document(self, name: str, document: dict[str, Any], *, context: str | None) -> Client:
        check_plugins(document, context=context, allowed=self.settings.allowed_plugins, cluster=name)
        configuration = k8s.Configuration()
        try:
            k8s_config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
                document, context=context, client_configuration=configuration, persist_config=False
            )
        except (k8s_config.ConfigException, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"kubeconfig for cluster {name} is unusable: {exc}", cluster=name) from None
        configuration.retries = False
        api = k8s.ApiClient(configuration)
        if self.settings.user_agent:
            api.user_agent = self.settings.user_agent
        return self._client(name, ApiClientTransport(api))

    def _client(self, name: str, transport: ApiClientTransport) -> Client:
        s = self.settings
        fence = self.fence
        return Client(name, transport, bucket=TokenBucket(qps=s.qps, burst=s.burst),
                      retry=retries.RetryPolicy(attempts=s.attempts, base=s.backoff), timeout=s.timeout,
                      fence=(lambda: fence(name)) if fence is not None else None)


PATH_FIELDS = {
    "clusters": ("cluster", ("certificate-authority",)),
    "users": ("user", ("client-certificate", "client-key", "tokenFile")),
}


def read_file(path: str) -> dict[str, Any]:
    """One kubeconfig file, its relative file references made absolute (as kubectl resolves them)."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = parse(handle.read(), where=path)
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig {path}: {exc.strerror}") from None
    base = os.path.dirname(os.path.abspath(path))
    for section, (inner, names) in PATH_FIELDS.items():
        for entry in document.get(section) or []:
            body = entry.get(inner) if isinstance(entry, dict) else None
            if isinstance(body, dict):
                _resolve_paths(body, names, base=base)
    return document


def _resolve_paths(body: dict[str, Any], names: tuple[str, ...], *, base: str) -> None:
    for name in names:
        value = body.get(name)
        if isinstance(value, str) and value and not os.path.isabs(value):
            body[name] = os.path.join(base, value)


def merge(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """kubectl's merge of a kubeconfig list: the first definition of a name wins, so does the first
    ``current-context``."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    for document in documents:
        for section in ("clusters", "users", "contexts"):
            taken = {entry.get("name") for entry in merged[section]}
            merged[section] += [e for e in document.get(section) or [] if isinstance(e, dict)
                                and e.get("name") not in taken]
        if document.get("current-context") and "current-context" not in merged:
            merged["current-context"] = document["current-context"]
    return merged


def parse(text: str, *, where: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"kubeconfig {where} is not valid YAML") from None
    if not isinstance(document, dict):
        raise ConfigError(f"kubeconfig {where} is not a mapping")
    return document


def check_plugins(document: Mapping[str, Any], *, context: str | None, allowed: frozenset[str], cluster: str) -> None:
    """Refuse a user with an ``exec`` or ``auth-provider`` plugin that is not allow-listed.

    An exec command must equal an allow-listed entry exactly: ``aws`` allows ``aws`` (found on the
    operator's PATH), not ``/tmp/x/aws``; a path is allowed only when that very path is listed. Matching
    base names would let a kubeconfig from a Secret run any binary named like an allowed one.
    """
    user = user_of(document, context=context)
    exec_spec, provider = user.get("exec"), user.get("auth-provider")
    if exec_spec:
        plugin = str(exec_spec.get("command", ""))
        if plugin not in allowed:
            raise _refused(f"exec plugin {plugin!r}", cluster)
    if provider:
        plugin = str(provider.get("name", ""))
        if plugin not in allowed:
            raise _refused(f"auth-provider {plugin!r}", cluster)


def user_of(document: Mapping[str, Any], *, context: str | None) -> Mapping[str, Any]:
    name = context or document.get("current-context")
    ctx = next((c.get("context") or {} for c in document.get("contexts") or () if c.get("name") == name), None)
    if ctx is None:
        raise ConfigError(f"kubeconfig has no context {name!r}")
    user = next((u.get("user") or {} for u in document.get("users") or () if u.get("name") == ctx.get("user")), {})
    return user


def _refused(what: str, cluster: str) -> StackfleetError:
    return ConfigError(f"kubeconfig runs {what}, which the operator has not allow-listed", cluster=cluster)
