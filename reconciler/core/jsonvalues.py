"""Small operations on JSON-shaped values (dicts, lists, scalars) shared by render, the core and the sim."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def clone(value: Any) -> Any:
    """A deep copy of a JSON value (much faster than ``copy.deepcopy`` for plain data)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: mappings merge recursively, ``null`` deletes a key, anything else
    replaces. Neither argument is changed."""
    if not isinstance(patch, Mapping):
        return clone(patch)
    out = clone(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out
