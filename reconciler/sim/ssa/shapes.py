"""How a value meets its type: which form of an atom applies, child types, list item keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reconciler.sim.ssa import fieldpaths
from reconciler.sim.ssa.fieldpaths import Path
from reconciler.sim.ssa.schemas import DEDUCED_REF, Atom, ListShape, MapShape, Schema, TypeRef
from reconciler.sim.ssa.values import MISSING


class InvalidObject(ValueError):
    """An object that does not fit its schema (a keyed item without its key, duplicate keys, ...)."""

    def __init__(self, message: str, *, path: Path = ()) -> None:
        self.path = path
        where = fieldpaths.to_string(path) or "."
        super().__init__(f"{where}: {message}")


class DuplicateItems(InvalidObject):
    """A keyed list or set holds two items with the same key.

    An applied configuration with duplicates is refused; in a stored or updated object the list is
    then handled as one atomic value, as kube-apiserver does since structured-merge-diff v4.2.
    """


@contextmanager
def depth_guard() -> Iterator[None]:
    """Turns Python's recursion limit on absurdly nested input into ``InvalidObject``."""
    try:
        yield
    except RecursionError:
        raise InvalidObject("the object is nested too deeply") from None


def form_of(atom: Atom, value: Any) -> str:
    """``"map"``, ``"list"`` or ``"scalar"``: how ``value`` is walked under ``atom``."""
    if isinstance(value, dict) and atom.map is not None:
        return "map"
    if isinstance(value, list) and atom.list is not None:
        return "list"
    if value is None or value is MISSING:
        return _preferred(atom)
    return "scalar"


def _preferred(atom: Atom) -> str:
    if atom.scalar is not None:
        return "scalar"
    return "list" if atom.list is not None else "map"


def pair_form(atom: Atom, lhs: Any, rhs: Any) -> str:
    """The form for merging ``lhs`` and ``rhs``; ``"scalar"`` (a leaf) when they disagree."""
    left, right = form_of(atom, lhs), form_of(atom, rhs)
    if lhs is None or lhs is MISSING:
        return right
    if rhs is None or rhs is MISSING or left == right:
        return left
    return "scalar"


def map_child(shape: MapShape, key: str) -> tuple[TypeRef, bool]:
    """The type of ``key`` in a map, and whether it is a declared field (not a map element)."""
    declared = shape.fields.get(key)
    if declared is not None:
        return declared.type, True
    return shape.element or DEDUCED_REF, False


def item_element(schema: Schema, shape: ListShape, position: int, item: Any, *, path: Path) -> str:
    """The path element naming one list item: by key, by value or by position."""
    if shape.relationship != "associative":
        return fieldpaths.index(position)
    if not shape.keys:
        if isinstance(item, dict | list):
            raise InvalidObject("a set holds only scalar values", path=path)
        return fieldpaths.value(item)
    if not isinstance(item, dict):
        raise InvalidObject("an item of a keyed list must be an object", path=path)
    return fieldpaths.key(_key_values(schema, shape, item, path))


def _key_values(schema: Schema, shape: ListShape, item: dict[str, Any], path: Path) -> dict[str, Any]:
    element = schema.resolve(shape.element).map
    values: dict[str, Any] = {}
    for name in shape.keys:
        if name in item and item[name] is not None:
            values[name] = item[name]
            continue
        declared = element.fields.get(name) if element else None
        if declared is None or declared.default is None:
            raise InvalidObject(f"an item omits the key field {name!r}", path=path)
        values[name] = declared.default
    return values


def list_items(schema: Schema, shape: ListShape, items: list[Any], *, path: Path) -> dict[str, Any]:
    """The items of a non-atomic list by path element, in order; duplicates are refused."""
    out: dict[str, Any] = {}
    for position, item in enumerate(items):
        element = item_element(schema, shape, position, item, path=path)
        if element in out:
            raise DuplicateItems(f"duplicate entries for key {element[2:]}", path=path)
        out[element] = item
    return out
