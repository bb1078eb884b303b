"""PATCH bodies other than server-side apply: JSON patch, JSON merge patch, strategic merge patch.

- ``application/json-patch+json``: RFC 6902, through the ``jsonpatch`` library.
- ``application/merge-patch+json``: RFC 7386 (``null`` deletes; lists are replaced whole).
- ``application/strategic-merge-patch+json``: Kubernetes' strategic merge patch, driven by the SSA
  schema: keyed lists merge per item by their merge key (the first list-map key, as
  ``patchMergeKey`` names it, with the key's default when an item omits it), sets merge by value,
  atomic lists are replaced. Directives: ``$patch: replace|delete`` (on maps and list items,
  ``{"$patch": "replace"}`` as a list item replaces the list), ``$retainKeys``,
  ``$deleteFromPrimitiveList/<field>``; ``$setElementOrder/<field>`` is accepted and ignored.
  A type without a schema (deduced) merges like a JSON merge patch; kube-apiserver refuses
  strategic merge patches for custom resources, so the server may refuse them first.

Every function returns a new object and leaves its inputs alone; a patch that cannot apply
raises ``InvalidPatch``.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from reconciler.core.jsonvalues import clone, merge_patch
from reconciler.sim.ssa import shapes
from reconciler.sim.ssa.schemas import ListShape, MapShape, Schema, TypeRef, builtin_schema
from reconciler.sim.ssa.values import MISSING

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


class InvalidPatch(ValueError):
    """The patch is malformed or does not apply to the object."""


def json_patch(obj: dict[str, Any], patch: Any) -> dict[str, Any]:
    """``obj`` with an RFC 6902 patch (a list of operations) applied."""
    if not isinstance(patch, list):
        raise InvalidPatch("a JSON patch is a list of operations")
    try:
        result = jsonpatch.apply_patch(obj, patch, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, KeyError, TypeError) as error:
        raise InvalidPatch(f"JSON patch does not apply: {error}") from None
    if not isinstance(result, dict):
        raise InvalidPatch("a JSON patch must leave an object")
    return result


def apply_patch(
    obj: dict[str, Any], patch: Any, *, content_type: str, type_name: str | None, schema: Schema | None = None
) -> dict[str, Any]:
    """Dispatch on the request's content type (parameters such as ``; charset=`` are ignored)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == JSON_PATCH:
        return json_patch(obj, patch)
    if not isinstance(patch, dict):
        raise InvalidPatch("a merge patch is a JSON object")
    if kind == MERGE_PATCH:
        try:
            result: dict[str, Any] = merge_patch(obj, patch)
        except RecursionError:
            raise InvalidPatch("the patch is nested too deeply") from None
        return result
    if kind == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(obj, patch, schema=schema, type_name=type_name)
    raise InvalidPatch(f"unsupported patch content type {content_type!r}")


def strategic_merge_patch(
    obj: dict[str, Any], patch: dict[str, Any], *, type_name: str | None, schema: Schema | None = None
) -> dict[str, Any]:
    """``obj`` with a strategic merge patch applied, list semantics from ``schema`` (default: built-in)."""
    schema = schema or builtin_schema()
    try:
        merged = _Strategic(schema).value(schema.root(type_name), obj, patch)
    except RecursionError:
        raise InvalidPatch("the patch is nested too deeply") from None
    return merged if isinstance(merged, dict) else {}


class _Strategic:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def value(self, ref: TypeRef, live: Any, patch: Any) -> Any:
        atom = self.schema.resolve(ref)
        if isinstance(patch, dict) and atom.map is not None:
            return self.merge_map(atom.map, live, patch)
        if isinstance(patch, list) and atom.list is not None and isinstance(live, list):
            return self.merge_list(atom.list, live, patch)
        return clone(patch)

    def merge_map(self, shape: MapShape, live: Any, patch: dict[str, Any]) -> Any:
        directive = patch.get(PATCH)
        if directive == "delete":
            return MISSING
        body = {k: v for k, v in patch.items() if k != PATCH}
        if directive == "replace":
            return _plain(body)
        out = self._retained(clone(live) if isinstance(live, dict) else {}, body.get(RETAIN_KEYS))
        for name, value in body.items():
            self._field(shape, out, name, value)
        return out

    @staticmethod
    def _retained(out: dict[str, Any], keys: Any) -> dict[str, Any]:
        if not isinstance(keys, list):
            return out
        return {k: v for k, v in out.items() if k in keys}

    def _field(self, shape: MapShape, out: dict[str, Any], name: str, value: Any) -> None:
        if name == RETAIN_KEYS or name.startswith(SET_ORDER):
            return
        if name.startswith(DELETE_FROM):
            field = name[len(DELETE_FROM) :]
            doomed = value if isinstance(value, list) else []
            out[field] = [item for item in out.get(field) or () if item not in doomed]
            return
        if value is None:
            out.pop(name, None)
            return
        ref, _ = shapes.map_child(shape, name)
        merged = self.value(ref, out.get(name), value)
        if merged is MISSING:
            out.pop(name, None)
        else:
            out[name] = merged

    def merge_list(self, shape: ListShape, live: list[Any], patch: list[Any]) -> list[Any]:
        if any(isinstance(item, dict) and item.get(PATCH) == "replace" for item in patch):
            return [_plain(item) for item in patch if not (isinstance(item, dict) and PATCH in item)]
        if shape.relationship != "associative":
            return [clone(item) for item in patch]
        if not shape.keys:
            return [clone(item) for item in [*live, *(item for item in patch if item not in live)]]
        return self._keyed(shape, clone(live), patch)

    def _keyed(self, shape: ListShape, out: list[Any], patch: list[Any]) -> list[Any]:
        key = shape.keys[0]
        for item in patch:
            if not isinstance(item, dict):
                raise InvalidPatch(f"an item of a list keyed by {key!r} must be an object")
            wanted = self._merge_key(shape, item)
            position = next((i for i, old in enumerate(out) if self._merge_key(shape, old) == wanted), None)
            if item.get(PATCH) == "delete":
                out = [old for old in out if self._merge_key(shape, old) != wanted]
            elif position is None:
                out.append(_plain(item))
            else:
                out[position] = self.value(shape.element, out[position], item)
        return out

    def _merge_key(self, shape: ListShape, item: Any) -> Any:
        key = shape.keys[0]
        if not isinstance(item, dict):
            return MISSING
        if key in item:
            return item[key]
        element = self.schema.resolve(shape.element).map
        declared = element.fields.get(key) if element else None
        return declared.default if declared is not None else None


def _plain(value: Any) -> Any:
    """``value`` without patch directives (what gets stored when a patch adds something new)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
