"""Unknown fields: what ``fieldValidation=Strict`` rejects and the default mode drops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.sim.ssa import shapes
from reconciler.sim.ssa.schemas import Schema, TypeRef


def unknown_in(schema: Schema, obj: Mapping[str, Any], type_name: str | None) -> list[str]:
    """Paths (``.spec.foo``) of fields type ``type_name`` does not declare (for ``fieldValidation=Strict``)."""
    with shapes.depth_guard():
        return unknown_fields(schema, obj, schema.root(type_name))


def without_unknown(schema: Schema, obj: Mapping[str, Any], type_name: str | None) -> dict[str, Any]:
    """A copy of ``obj`` without the fields ``unknown_in`` reports (the default, non-strict decode)."""
    dropped: dict[str, Any] = drop_unknown_fields(schema, obj, schema.root(type_name))
    return dropped


def unknown_fields(schema: Schema, obj: Mapping[str, Any], ref: TypeRef) -> list[str]:
    """Paths (``.spec.foo``, ``.spec.containers[0].bar``) of fields ``ref``'s structs do not declare."""
    found: list[str] = []
    _walk(schema, ref, obj, "", found)
    return found


def _walk(schema: Schema, ref: TypeRef, value: Any, path: str, found: list[str]) -> None:
    atom = schema.resolve(ref)
    if isinstance(value, dict) and atom.map is not None:
        for name, child in value.items():
            declared = atom.map.fields.get(name)
            if declared is None and atom.map.element is None:
                found.append(f"{path}.{name}")
                continue
            child_ref, _ = shapes.map_child(atom.map, name)
            _walk(schema, child_ref, child, f"{path}.{name}", found)
    elif isinstance(value, list) and atom.list is not None:
        for position, item in enumerate(value):
            _walk(schema, atom.list.element, item, f"{path}[{position}]", found)


def drop_unknown_fields(schema: Schema, obj: Any, ref: TypeRef) -> Any:
    """``obj`` without the fields ``unknown_fields`` reports (what a non-strict decode keeps)."""
    atom = schema.resolve(ref)
    if isinstance(obj, dict) and atom.map is not None:
        kept = {k: v for k, v in obj.items() if k in atom.map.fields or atom.map.element is not None}
        return {k: drop_unknown_fields(schema, v, shapes.map_child(atom.map, k)[0]) for k, v in kept.items()}
    if isinstance(obj, list) and atom.list is not None:
        return [drop_unknown_fields(schema, item, atom.list.element) for item in obj]
    return obj
