"""An audit log of the simulated API server, as kube-apiserver's ``--audit-log-path`` writes one.

One JSON line per request at the ``Metadata`` level once its response is complete: the cluster it went
to, the verb, the resource, the object's namespace and name, the client's user agent, the response code
and the times the request was received and answered (RFC 3339, microseconds). Tests read it to see who
wrote where and when (two replicas never writing one cluster at once).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, *, cluster: str, verb: str, uri: str, resource: str, namespace: str, name: str,
               user_agent: str, code: int, received: float, completed: float) -> None:
        event: dict[str, Any] = {
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "stage": "ResponseComplete",
            "cluster": cluster, "verb": verb, "requestURI": uri, "userAgent": user_agent,
            "objectRef": {"resource": resource, "namespace": namespace, "name": name},
            "responseStatus": {"code": code},
            "requestReceivedTimestamp": _stamp(received), "stageTimestamp": _stamp(completed),
        }
        line = json.dumps(event, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_dry_run(event: dict[str, Any]) -> bool:
    """A request made with ``dryRun`` (logged as its verb, as kube-apiserver logs it; it changed nothing)."""
    return "dryRun=" in str(event.get("requestURI", ""))


def read(path: Path) -> list[dict[str, Any]]:
    """Every event of the audit log at ``path`` (a line still being written, not yet ended, is left out)."""
    complete = path.read_text(encoding="utf-8").split("\n")[:-1]
    return [json.loads(line) for line in complete if line.strip()]
