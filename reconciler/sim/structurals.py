"""Structural-schema defaulting and pruning of custom resources, as kube-apiserver does for CRDs.

``default_and_prune(obj, schema)`` takes a custom resource and the ``openAPIV3Schema`` of its version and
returns a copy where:

- every field a schema node declares with ``default:`` is filled in when absent (or null), walking
  objects by ``properties``, ``additionalProperties`` and arrays by ``items``; a default is itself
  defaulted below (apiextensions-apiserver's ``structuraldefaulting.Default``);
- fields the schema does not declare are dropped (``structuralpruning.Prune``), except below
  ``x-kubernetes-preserve-unknown-fields: true`` or an ``x-kubernetes-embedded-resource``'s
  apiVersion/kind/metadata; ``apiVersion``, ``kind`` and ``metadata`` of the root are always kept.

Both run on create and update (before the field manager records an update, after an apply's merge,
so nobody owns a default), as the API server's decoding does; defaulting alone also runs on read (the
sim applies it to the stored objects when their CRD changes, keeping their resourceVersion). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.jsonvalues import clone

Obj = dict[str, Any]
ROOT_FIELDS = ("apiVersion", "kind", "metadata")
EMBEDDED = ("apiVersion", "kind", "metadata")


def default_and_prune(obj: Obj, schema: Mapping[str, Any], *, prune: bool = True) -> Obj:
    """A defaulted (and, with ``prune``, pruned) copy of the custom resource ``obj`` (see the module
    docstring); ``prune=False`` is what a read does: stored objects gain the defaults a CRD added later."""
    out: Obj = clone(obj)
    body = {k: v for k, v in out.items() if k not in ROOT_FIELDS}
    shaped = _walk(body, schema, prune=prune)
    return {**{k: out[k] for k in ROOT_FIELDS if k in out}, **(shaped if isinstance(shaped, dict) else {})}


def _walk(value: Any, node: Mapping[str, Any], *, prune: bool) -> Any:
    if isinstance(value, dict):
        return _object(value, node, prune=prune)
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        return [_walk(item, node["items"], prune=prune) for item in value]
    return value


def _object(value: Obj, node: Mapping[str, Any], *, prune: bool) -> Obj:
    properties: Mapping[str, Any] = node.get("properties") or {}
    extra = node.get("additionalProperties")
    keep_unknown = not prune or bool(node.get("x-kubernetes-preserve-unknown-fields")) or extra is True
    out: Obj = {}
    for name, child in value.items():
        declared = properties.get(name)
        if declared is None and isinstance(extra, Mapping):
            declared = extra
        if declared is not None:
            out[name] = _walk(child, declared, prune=prune)
        elif keep_unknown or (node.get("x-kubernetes-embedded-resource") and name in EMBEDDED):
            out[name] = child
    for name, declared in properties.items():
        if out.get(name) is None and isinstance(declared, Mapping) and "default" in declared:
            out[name] = _walk(clone(declared["default"]), declared, prune=prune)
    return out


def version_schema(crd: Mapping[str, Any], version: str) -> Mapping[str, Any] | None:
    """The ``openAPIV3Schema`` of ``version`` of ``crd`` (``None`` when it has none)."""
    for served in (crd.get("spec") or {}).get("versions") or ():
        if served.get("name") == version:
            found = (served.get("schema") or {}).get("openAPIV3Schema")
            return found if isinstance(found, Mapping) else None
    return None
