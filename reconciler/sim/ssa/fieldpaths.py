"""Field paths and field sets, in the FieldsV1 form kube-apiserver stores in ``managedFields``.

A path is a tuple of path elements. An element is the text FieldsV1 uses for it, so it is
hashable and encodes to FieldsV1 without work:

- ``f:<name>``  a field of a struct or a key of a map
- ``k:<json>``  an item of a keyed list, by its key fields (JSON object, keys sorted)
- ``v:<json>``  an item of a set, by its value
- ``i:<n>``     an item of a list by position (lists that are neither keyed nor sets)

A field set is a ``frozenset`` of paths. ``decode`` and ``encode`` convert to and from FieldsV1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

Path = tuple[str, ...]
FieldSet = frozenset[Path]

EMPTY: FieldSet = frozenset()


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys; integral floats written as integers."""
    return json.dumps(_integral(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def field(name: str) -> str:
    return f"f:{name}"


def key(values: Mapping[str, Any]) -> str:
    return (
        "k:{"
        + ",".join(f"{_scalar_json(name)}:{_scalar_json(values[name])}" for name in sorted(values))
        + "}"
    )


def value(item: Any) -> str:
    return f"v:{_scalar_json(item)}"


_PLAIN = re.compile(r'[^"\\\x00-\x1f\x7f\u2028\u2029]*')


def _scalar_json(item: Any) -> str:
    """``canonical_json`` with fast paths for plain strings and integers (the usual key values)."""
    if isinstance(item, str) and _PLAIN.fullmatch(item):
        return f'"{item}"'
    if isinstance(item, int) and not isinstance(item, bool):
        return str(item)
    return canonical_json(item)


def index(position: int) -> str:
    return f"i:{position}"


def decode(fields_v1: Mapping[str, Any]) -> FieldSet:
    """The set of paths a FieldsV1 object encodes."""
    out: set[Path] = set()
    _decode_into(fields_v1, (), out)
    return frozenset(out)


def _decode_into(node: Mapping[str, Any], prefix: Path, out: set[Path]) -> None:
    for element, child in node.items():
        if element == ".":
            out.add(prefix)
            continue
        path = (*prefix, _normalized(element))
        if child:
            _decode_into(child, path, out)
        else:
            out.add(path)


def _normalized(element: str) -> str:
    """``element`` in canonical form; ``ValueError`` when it is not a FieldsV1 path element."""
    kind, colon, payload = element.partition(":")
    if kind in ("k", "v"):
        return f"{kind}:{canonical_json(json.loads(payload))}"
    if kind in ("f", "i") and colon:
        return element
    raise ValueError(f"not a FieldsV1 path element: {element!r}")


def encode(paths: Iterable[Path]) -> dict[str, Any]:
    """The FieldsV1 object for a set of paths (members with children carry ``".": {}``)."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
        if path:
            node["."] = {}
    return _collapse(root)


def _collapse(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element, child in node.items():
        if element == ".":
            continue
        children = _collapse(child)
        if children and "." in child:
            out[element] = {".": {}, **children}
        else:
            out[element] = children
    return out


def to_string(path: Path) -> str:
    """The path as kube-apiserver writes it in a conflict cause (``.spec.ports[port=80,protocol="TCP"]``)."""
    return "".join(_element_string(element) for element in path)


def _element_string(element: str) -> str:
    kind, _, payload = element.partition(":")
    if kind == "f":
        return f".{payload}"
    if kind == "k":
        fields = json.loads(payload)
        return "[" + ",".join(f"{name}={_go_string(fields[name])}" for name in sorted(fields)) + "]"
    if kind == "v":
        return f"[={_go_string(json.loads(payload))}]"
    return f"[{payload}]"


def _go_string(item: Any) -> str:
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)
    if isinstance(item, bool):
        return "true" if item else "false"
    if item is None:
        return "null"
    if isinstance(item, int | float):
        return str(_integral(item))
    return canonical_json(item)
