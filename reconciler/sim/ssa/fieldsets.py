"""Field sets of values: the set a value sets, named fields as members, removing a set from a value.

- ``of_value`` is what an applied configuration owns: every leaf (scalars, atomic lists and maps,
  explicitly empty maps, nulls), every keyed item or set value, and every map element.
- ``with_named_fields`` adds each struct field that has members below it (so removing it removes
  the whole field), as structured-merge-diff's ``EnsureNamedFieldsAreMembers`` does.
- ``remove`` drops every member path (with all below it); a map or list left empty becomes null.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.sim.ssa import fieldpaths, shapes
from reconciler.sim.ssa.fieldpaths import FieldSet, Path
from reconciler.sim.ssa.schemas import ListShape, Schema, TypeRef


def of_value(schema: Schema, ref: TypeRef, value: Any, *, strict: bool = False) -> FieldSet:
    """The paths ``value`` sets; a list with duplicate keys counts as one leaf unless ``strict``."""
    out: set[Path] = set()
    _collect(schema, ref, value, (), out, strict=strict)
    out.discard(())
    return frozenset(out)


def _collect(schema: Schema, ref: TypeRef, value: Any, path: Path, out: set[Path], *, strict: bool) -> None:
    atom = schema.resolve(ref)
    form = shapes.form_of(atom, value)
    if form == "list" and atom.list is not None:
        if atom.list.atomic:
            out.add(path)
        elif isinstance(value, list):
            _collect_items(schema, atom.list, value, path, out, strict=strict)
    elif form == "map" and atom.map is not None:
        if atom.map.atomic:
            out.add(path)
        elif isinstance(value, dict):
            for name, child in value.items():
                child_ref, declared = shapes.map_child(atom.map, name)
                child_path = (*path, fieldpaths.field(name))
                _collect(schema, child_ref, child, child_path, out, strict=strict)
                if child is None or child == {} or not declared:
                    out.add(child_path)
    else:
        out.add(path)


def _collect_items(
    schema: Schema, shape: ListShape, items: list[Any], path: Path, out: set[Path], *, strict: bool
) -> None:
    try:
        keyed = shapes.list_items(schema, shape, items, path=path)
    except shapes.DuplicateItems:
        if strict:
            raise
        out.add(path)
        return
    for element, item in keyed.items():
        _collect(schema, shape.element, item, (*path, element), out, strict=strict)
        out.add((*path, element))


def with_named_fields(schema: Schema, ref: TypeRef, paths: Iterable[Path]) -> FieldSet:
    """``paths`` plus every declared struct field that has paths below it."""
    out = set(paths)
    _add_named(schema, ref, out.copy(), (), out)
    return frozenset(out)


def _add_named(
    schema: Schema, ref: TypeRef | None, paths: Iterable[Path], prefix: Path, out: set[Path]
) -> None:
    atom = schema.resolve(ref) if ref is not None else None
    _, children = fieldpaths.split(paths)
    for element, below in children.items():
        child_ref: TypeRef | None = None
        if element.startswith("f:") and atom is not None and atom.map is not None:
            declared = atom.map.fields.get(element[2:])
            if declared is not None:
                out.add((*prefix, element))
            child_ref = declared.type if declared is not None else atom.map.element
        elif element.startswith("k:") and atom is not None and atom.list is not None:
            child_ref = atom.list.element
        _add_named(schema, child_ref, below, (*prefix, element), out)


def remove(schema: Schema, ref: TypeRef, value: Any, paths: Iterable[Path]) -> Any:
    """``value`` without the members of ``paths`` (and everything below them)."""
    members, children = fieldpaths.split(paths)
    if not members and not children:
        return value
    atom = schema.resolve(ref)
    form = shapes.form_of(atom, value)
    if form == "map" and atom.map is not None:
        if not isinstance(value, dict) or not value or atom.map.atomic:
            return None
        kept: dict[str, Any] = {}
        for name, child in value.items():
            element = fieldpaths.field(name)
            if element not in members:
                child_ref, _ = shapes.map_child(atom.map, name)
                kept[name] = remove(schema, child_ref, child, children.get(element, ()))
        return kept or None
    if form == "list" and atom.list is not None:
        if not isinstance(value, list) or not value or atom.list.atomic:
            return None
        try:
            items = shapes.list_items(schema, atom.list, value, path=())
        except shapes.DuplicateItems:
            return value
        left = [
            remove(schema, atom.list.element, item, children.get(e, ()))
            for e, item in items.items()
            if e not in members
        ]
        return left or None
    return value
