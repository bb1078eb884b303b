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
    refs: dict[Path, TypeRef | None] = {(): ref}
    for path in list(out):
        for depth in range(1, len(path)):
            prefix = path[:depth]
            if prefix not in refs:
                refs[prefix], named = _step(schema, refs[path[: depth - 1]], path[depth - 1])
                if named:
                    out.add(prefix)
    return frozenset(out)


def _step(schema: Schema, ref: TypeRef | None, element: str) -> tuple[TypeRef | None, bool]:
    """The type below ``element`` of a value of type ``ref``, and whether it is a declared field."""
    atom = schema.resolve(ref) if ref is not None else None
    if atom is None:
        return None, False
    if element.startswith("f:") and atom.map is not None:
        declared = atom.map.fields.get(element[2:])
        return (declared.type, True) if declared is not None else (atom.map.element, False)
    if element.startswith("k:") and atom.list is not None:
        return atom.list.element, False
    return None, False


_MEMBER = ""
"""Marks a trie node that is itself a member (no path element is empty)."""

Trie = dict[str, Any]


def _trie(paths: Iterable[Path]) -> Trie:
    root: Trie = {}
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        node[_MEMBER] = True
    return root


def remove(schema: Schema, ref: TypeRef, value: Any, paths: Iterable[Path]) -> Any:
    """``value`` without the members of ``paths`` (and everything below them)."""
    trie = _trie(paths)
    trie.pop(_MEMBER, None)
    return _remove(schema, ref, value, trie) if trie else value


def _remove(schema: Schema, ref: TypeRef, value: Any, trie: Trie) -> Any:
    atom = schema.resolve(ref)
    form = shapes.form_of(atom, value)
    if form == "map" and atom.map is not None:
        if not isinstance(value, dict) or not value or atom.map.atomic:
            return None
        kept: dict[str, Any] = {}
        for name, child in value.items():
            below = trie.get(fieldpaths.field(name))
            if below is None:
                kept[name] = child
            elif _MEMBER not in below:
                kept[name] = _remove(schema, shapes.map_child(atom.map, name)[0], child, below)
        return kept or None
    if form == "list" and atom.list is not None:
        return _remove_items(schema, atom.list, value, trie)
    return value


def _remove_items(schema: Schema, shape: ListShape, value: Any, trie: Trie) -> Any:
    if not isinstance(value, list) or not value or shape.atomic:
        return None
    try:
        items = shapes.list_items(schema, shape, value, path=())
    except shapes.DuplicateItems:
        return value
    left: list[Any] = []
    for element, item in items.items():
        below = trie.get(element)
        if below is None:
            left.append(item)
        elif _MEMBER not in below:
            left.append(_remove(schema, shape.element, item, below))
    return left or None
