"""A small reader of server-side apply ``managedFields`` (FieldsV1), pure.

FieldsV1 is a trie whose keys say how to step into the object: ``f:<name>`` a map field,
``k:<json>`` a list element identified by its key fields, ``v:<json>`` a set element by value,
``i:<n>`` a list element by index and ``.`` the node itself. A node with no children is a leaf: the
whole value there is owned.

``owned_by(obj)`` merges every ``Apply`` entry of our field manager into one trie (``None`` when we
never applied the object); ``fields``/``elements`` step into it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.core.objects import FIELD_MANAGER

FieldSet = dict[str, Any]
"""A FieldsV1 trie node."""


def owned_by(
    obj: Mapping[str, Any], *, manager: str = FIELD_MANAGER, operation: str = "Apply"
) -> FieldSet | None:
    """The fields ``manager`` owns in ``obj`` through ``operation``, merged over API versions."""
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    tries = [
        e.get("fieldsV1") or {}
        for e in entries
        if e.get("manager") == manager and e.get("operation") == operation
    ]
    if not tries:
        return None
    merged: FieldSet = {}
    for trie in tries:
        merged = merge(merged, trie)
    return merged


def merge(left: FieldSet, right: FieldSet) -> FieldSet:
    """The union of two tries."""
    out = dict(left)
    for name, node in right.items():
        out[name] = merge(out.get(name) or {}, node or {}) if name in out else node
    return out


def is_leaf(node: FieldSet) -> bool:
    """True when the node owns its whole value (no child steps besides ``.``)."""
    return all(name == "." for name in node)


def fields(node: FieldSet) -> dict[str, FieldSet]:
    """The map fields under ``node``: ``{"replicas": {...}}`` for ``f:replicas``."""
    return {name[2:]: child or {} for name, child in node.items() if name.startswith("f:")}


def element_keys(node: FieldSet) -> list[tuple[dict[str, Any], FieldSet]]:
    """The list elements under ``node`` named by key fields (``k:{"name":"web"}``)."""
    out: list[tuple[dict[str, Any], FieldSet]] = []
    for name, child in node.items():
        if name.startswith("k:"):
            out.append((json.loads(name[2:]), child or {}))
    return out


def element_for(node: FieldSet | None, element: Any) -> FieldSet | None:
    """The trie node owning list ``element`` (matched by key fields or by value), if any."""
    if node is None:
        return None
    if isinstance(element, Mapping):
        for key, child in element_keys(node):
            if all(_same(element.get(f), v) for f, v in key.items()):
                return child
    for name, child in node.items():
        if name.startswith("v:") and _same(json.loads(name[2:]), element):
            return child or {}
    return None


def _same(left: Any, right: Any) -> bool:
    return left == right or str(left) == str(right)
