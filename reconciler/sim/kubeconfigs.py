"""Kubeconfig documents with one context per simulated cluster (cluster, user and context share its name)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import yaml

from reconciler.core.objects import Obj


@dataclass(frozen=True)
class Entry:
    """How to reach one cluster: its context name, server URL and bearer token."""

    context: str
    server: str
    token: str
    namespace: str = "default"


def document(entries: list[Entry], *, ca_pem: bytes | None = None, current: str | None = None) -> Obj:
    """A kubeconfig for ``entries``; TLS servers are trusted through ``ca_pem``."""
    def cluster(entry: Entry) -> Obj:
        found: Obj = {"server": entry.server}
        if ca_pem is not None and entry.server.startswith("https:"):
            found["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
        return {"name": entry.context, "cluster": found}

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [cluster(e) for e in entries],
        "users": [{"name": e.context, "user": {"token": e.token}} for e in entries],
        "contexts": [{"name": e.context, "context": {"cluster": e.context, "user": e.context,
                                                      "namespace": e.namespace}} for e in entries],
        "current-context": current or (entries[0].context if entries else ""),
    }


def dumps(entries: list[Entry], *, ca_pem: bytes | None = None, current: str | None = None) -> str:
    return yaml.safe_dump(document(entries, ca_pem=ca_pem, current=current), sort_keys=False)


def write(path: Path, entries: list[Entry], *, ca_pem: bytes | None = None, current: str | None = None) -> Path:
    """Write the kubeconfig to ``path`` (owner-only permissions: it holds tokens) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(entries, ca_pem=ca_pem, current=current))
    path.chmod(0o600)
    return path
