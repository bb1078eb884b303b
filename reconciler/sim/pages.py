"""LIST pages: objects in (namespace, name) order cut by ``limit``, resumed with an opaque ``continue`` token."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from reconciler.core.objects import Obj
from reconciler.sim import statuses


@dataclass(frozen=True)
class Page:
    items: list[Obj]
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None


def cut(items: list[Obj], *, resource_version: str, limit: int, continue_token: str) -> Page:
    """The page of ``items`` (already filtered and sorted) after ``continue_token``, at most ``limit`` long."""
    start = decode(continue_token)
    if start is not None:
        items = [o for o in items if sort_key(o) > start]
    if not limit or len(items) <= limit:
        return Page(items, resource_version)
    return Page(items[:limit], resource_version, encode(sort_key(items[limit - 1])), len(items) - limit)


def sort_key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (str(meta.get("namespace", "")), str(meta["name"]))


def encode(last: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "start": last}).encode()).decode()


def decode(token: str) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))["start"]
        return (str(namespace), str(name))
    except (ValueError, KeyError, TypeError) as exc:
        raise statuses.bad_request("continue key is not valid: incorrect encoded start resourceVersion") from exc
