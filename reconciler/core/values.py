"""Deep merge of values layers (stack defaults < fleet-wide < assignment < cluster).

Mappings merge key by key, recursively; anything else (scalars, lists, ``None``) in a later layer
replaces what an earlier layer had. Lists are replaced, never concatenated, as in Helm. Nothing here
mutates its inputs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """The layers merged left to right: later layers win."""
    out: dict[str, Any] = {}
    for layer in layers:
        _merge_into(out, layer)
    return out


def _merge_into(out: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            _merge_into(current, value)
        elif isinstance(value, Mapping):
            out[key] = merge(value)
        else:
            out[key] = copy.deepcopy(value)


def lookup(values: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    """``(True, value)`` at ``a.b.c`` in ``values``, or ``(False, None)`` when any step is missing."""
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node
