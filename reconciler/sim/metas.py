"""Server-set metadata: uid, resourceVersion, generation, timestamps, and what a write may not touch."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from reconciler.core.objects import Obj

SERVER_SET = ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
              "deletionGracePeriodSeconds", "managedFields", "selfLink")
NOT_SPEC = ("metadata", "status", "apiVersion", "kind")


def timestamp(epoch: float) -> str:
    """RFC 3339 in UTC with second precision, as kube-apiserver writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def micro_timestamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1e6):06d}Z"


def new_uid() -> str:
    return str(uuid.uuid4())


def generated_name(prefix: str) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(5))


def meta(obj: Obj) -> dict[str, Any]:
    found: dict[str, Any] = obj.setdefault("metadata", {})
    return found


def strip_server_set(obj: Obj) -> Obj:
    """``obj`` without the metadata fields only the server may set (a copy of the top levels)."""
    out = dict(obj)
    out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_SET}
    return out


def carry_server_set(new: Obj, live: Obj) -> Obj:
    """``new`` with ``live``'s server-set fields (uid, creation time, generation, deletion marks)."""
    target = meta(new)
    for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if key in live.get("metadata", {}):
            target[key] = live["metadata"][key]
        else:
            target.pop(key, None)
    return new


def spec_of(obj: Obj) -> dict[str, Any]:
    """Everything that counts as desired state for ``generation``: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in NOT_SPEC}


def without_times(managed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{k: v for k, v in entry.items() if k != "time"} for entry in managed or []]


def same_content(a: Obj, b: Obj) -> bool:
    """True when ``a`` and ``b`` differ at most in resourceVersion and managed-fields times."""
    def key(obj: Obj) -> Obj:
        m = {k: v for k, v in obj.get("metadata", {}).items() if k not in ("resourceVersion", "managedFields")}
        return {**obj, "metadata": {**m, "mf": without_times(obj.get("metadata", {}).get("managedFields"))}}

    return key(a) == key(b)
