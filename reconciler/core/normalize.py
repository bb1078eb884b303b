"""Normalisation: put a desired and a live object in the same shape before comparing them.

Two steps, both pure:

- ``project(live, desired=..., owned=...)`` keeps of a live object only the fields the desired object
  declares plus the fields our field manager owned before (a FieldsV1 trie from ``fieldsets``). Fields
  the server defaulted or other managers own drop out, so they are never drift; a field we owned and
  no longer declare stays in, so its removal shows as a change.
- ``canonical(obj)`` rewrites what the API treats as equal to one spelling: quantities (``1000m`` ==
  ``1``, ``1Gi`` == ``1024Mi``), int-or-string ports (``"80"`` == ``80``), empty or null maps and lists
  (== absent), Secret ``stringData`` (== base64 ``data``). Key order never matters (dict equality).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.core import fieldsets
from reconciler.core.fieldsets import FieldSet
from reconciler.core.objects import LEGACY_ANNOTATIONS

QUANTITY_MAPS = frozenset({"limits", "requests", "capacity", "allocatable", "hard"})
"""Maps whose values are resource quantities."""
QUANTITY_FIELDS = frozenset({"storage", "sizeLimit"})
INT_OR_STRING_FIELDS = frozenset({"port", "targetPort", "containerPort", "hostPort", "nodePort"})
SERVER_METADATA = (
    "managedFields",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
)

_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(e[+-]?[0-9]+|E[+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)
_DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_EXPONENTS = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX = {
    **{suffix: Decimal(10) ** exp for suffix, exp in _DECIMAL_EXPONENTS.items()},
    **{suffix: Decimal(2) ** exp for suffix, exp in _BINARY_EXPONENTS.items()},
}
_MISSING: Any = object()


def quantity(value: Any) -> Any:
    """A resource quantity in one canonical spelling (a plain decimal string); other values unchanged."""
    match = _QUANTITY.match(str(value).strip()) if isinstance(value, str | int | float) else None
    if match is None or isinstance(value, bool):
        return value
    number, suffix = match.group(1), match.group(2) or ""
    try:
        exponent = suffix[:1] in ("e", "E")
        amount = Decimal(number + suffix) if exponent else Decimal(number) * _SUFFIX[suffix]
    except (InvalidOperation, KeyError):
        return value
    text = format(amount.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def int_or_string(value: Any) -> Any:
    """``"80"`` and ``80`` are the same port; named ports stay strings."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def canonical(obj: Any) -> Any:
    """``obj`` with every equal-by-API spelling rewritten to one form (see the module docstring)."""
    if isinstance(obj, Mapping) and obj.get("kind") == "Secret" and "apiVersion" in obj:
        obj = secret_data(obj)
    return _canonical(obj, parent="")


def _canonical(value: Any, *, parent: str, quantities: bool = False) -> Any:
    if isinstance(value, Mapping):
        return _canonical_map(value, quantities=parent in QUANTITY_MAPS)
    if isinstance(value, list):
        return [_canonical(item, parent="") for item in value]
    if parent in INT_OR_STRING_FIELDS:
        return int_or_string(value)
    if quantities or parent in QUANTITY_FIELDS:
        return quantity(value)
    return value


def _canonical_map(value: Mapping[str, Any], *, quantities: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, item in value.items():
        child = _canonical(item, parent=name, quantities=quantities)
        if child is not None and child != {} and child != []:
            out[name] = child
    return out


def secret_data(secret: Mapping[str, Any]) -> dict[str, Any]:
    """A Secret with ``stringData`` folded into ``data`` (base64), as the API server stores it."""
    string_data = secret.get("stringData") or {}
    if not string_data:
        return dict(secret)
    out = {k: v for k, v in secret.items() if k != "stringData"}
    encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in string_data.items()}
    out["data"] = {**(secret.get("data") or {}), **encoded}
    return out


def strip_server_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without status and the metadata the server maintains (for showing a live object)."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_METADATA}
    annotations = meta.get("annotations")
    if isinstance(annotations, Mapping) and LEGACY_ANNOTATIONS & annotations.keys():
        meta["annotations"] = {k: v for k, v in annotations.items() if k not in LEGACY_ANNOTATIONS}
    if meta:
        out["metadata"] = meta
    return out


def project(live: Any, *, desired: Any, owned: FieldSet | None) -> Any:
    """The part of ``live`` that ``desired`` declares or ``owned`` covers (see the module docstring)."""
    if isinstance(live, Mapping):
        return _project_map(live, desired=desired, owned=owned)
    if isinstance(live, list) and isinstance(desired, list):
        return _project_list(live, desired=desired, owned=owned)
    if isinstance(live, list) and owned is not None and not fieldsets.is_leaf(owned):
        return [
            _project_owned(item, owned) for item in live if fieldsets.element_for(owned, item) is not None
        ]
    return live


def _project_map(live: Mapping[str, Any], *, desired: Any, owned: FieldSet | None) -> Any:
    if desired is _MISSING and owned is not None and fieldsets.is_leaf(owned):
        return dict(live)
    wanted = desired if isinstance(desired, Mapping) else {}
    owned_fields = fieldsets.fields(owned) if owned is not None else {}
    out: dict[str, Any] = {}
    for name, item in live.items():
        if name in wanted or name in owned_fields:
            out[name] = project(item, desired=wanted.get(name, _MISSING), owned=owned_fields.get(name))
    return out


def _project_list(live: list[Any], *, desired: list[Any], owned: FieldSet | None) -> list[Any]:
    if _keyed_by_name(live) and _keyed_by_name(desired):
        return _project_named(live, desired=desired, owned=owned)
    out: list[Any] = []
    for index, item in enumerate(live):
        mine = fieldsets.element_for(owned, item)
        if index < len(desired):
            out.append(project(item, desired=desired[index], owned=mine))
        elif owned is None or mine is not None:
            out.append(item if mine is None else project(item, desired=_MISSING, owned=mine))
    return out


def _project_named(live: list[Any], *, desired: list[Any], owned: FieldSet | None) -> list[Any]:
    wanted = {item["name"]: item for item in desired}
    out: list[Any] = []
    for item in live:
        mine = fieldsets.element_for(owned, item)
        if item["name"] in wanted or mine is not None:
            out.append(project(item, desired=wanted.get(item["name"], _MISSING), owned=mine))
    return out


def _project_owned(item: Any, owned: FieldSet) -> Any:
    return project(item, desired=_MISSING, owned=fieldsets.element_for(owned, item))


def _keyed_by_name(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, Mapping) and "name" in item for item in items)


def sort_named_lists(value: Any) -> Any:
    """Lists of named elements in name order (their order carries no meaning to the API)."""
    if isinstance(value, Mapping):
        return {k: sort_named_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [sort_named_lists(v) for v in value]
        return sorted(items, key=lambda v: str(v["name"])) if _keyed_by_name(items) else items
    return value
