"""Walking two values of one type side by side: merging them, and comparing them.

Both follow structured-merge-diff's merging walker. Scalars, atomic lists and maps, and lists or
maps empty on both sides are leaves. Map keys are visited left first, then keys only on the right;
list items are keyed (by key, value or position), the left items first in their order, then the
items only on the right in theirs. So a merge keeps the live order and appends new items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.sim.ssa import fieldpaths, shapes
from reconciler.sim.ssa.fieldpaths import FieldSet, Path
from reconciler.sim.ssa.schemas import ListShape, MapShape, Schema, TypeRef
from reconciler.sim.ssa.values import MISSING, equal

LeafRule = Callable[[Path, Any, Any], Any]
NodeHook = Callable[[Path, Any, Any], None]


@dataclass
class PairWalk:
    """Walks ``lhs`` and ``rhs`` together; ``leaf`` gives each leaf's output, ``after`` sees inner nodes."""

    schema: Schema
    leaf: LeafRule
    after: NodeHook | None = None

    def node(self, ref: TypeRef, lhs: Any, rhs: Any, path: Path) -> Any:
        atom = self.schema.resolve(ref)
        form = shapes.pair_form(atom, lhs, rhs)
        if form == "map" and atom.map is not None:
            return self._map(atom.map, lhs, rhs, path)
        if form == "list" and atom.list is not None:
            return self._list(atom.list, lhs, rhs, path)
        return self.leaf(path, lhs, rhs)

    def _map(self, shape: MapShape, lhs: Any, rhs: Any, path: Path) -> Any:
        left = lhs if isinstance(lhs, dict) else {}
        right = rhs if isinstance(rhs, dict) else {}
        if shape.atomic or (not left and not right):
            return self.leaf(path, lhs, rhs)
        out: dict[str, Any] = {}
        for name in [*left, *(k for k in right if k not in left)]:
            ref, _ = shapes.map_child(shape, name)
            child = self.node(
                ref, left.get(name, MISSING), right.get(name, MISSING), (*path, fieldpaths.field(name))
            )
            if child is not MISSING:
                out[name] = child
        self._after(path, lhs, rhs)
        return out or MISSING

    def _list(self, shape: ListShape, lhs: Any, rhs: Any, path: Path) -> Any:
        left = lhs if isinstance(lhs, list) else []
        right = rhs if isinstance(rhs, list) else []
        if shape.atomic or (not left and not right):
            return self.leaf(path, lhs, rhs)
        try:
            left_items = shapes.list_items(self.schema, shape, left, path=path)
            right_items = shapes.list_items(self.schema, shape, right, path=path)
        except shapes.DuplicateItems:
            return self.leaf(path, lhs, rhs)
        out: list[Any] = []
        for element in [*left_items, *(e for e in right_items if e not in left_items)]:
            pair = left_items.get(element, MISSING), right_items.get(element, MISSING)
            child = self.node(shape.element, *pair, (*path, element))
            if child is not MISSING:
                out.append(child)
        self._after(path, lhs, rhs)
        return out or MISSING

    def _after(self, path: Path, lhs: Any, rhs: Any) -> None:
        if self.after is not None:
            self.after(path, lhs, rhs)


def _keep_right(path: Path, lhs: Any, rhs: Any) -> Any:
    return lhs if rhs is MISSING else rhs


def merge(schema: Schema, ref: TypeRef, lhs: Any, rhs: Any) -> Any:
    """``rhs`` merged onto ``lhs``: leaves of ``rhs`` win, everything only in ``lhs`` stays."""
    return PairWalk(schema, _keep_right).node(ref, lhs, rhs, ())


@dataclass
class Comparison:
    """What changed between two values, as field sets."""

    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)

    def changed(self) -> FieldSet:
        """Added or modified paths: what a writer takes ownership of."""
        return frozenset(self.added | self.modified)

    def is_same(self) -> bool:
        return not (self.added or self.modified or self.removed)

    def on_leaf(self, path: Path, lhs: Any, rhs: Any) -> Any:
        if lhs is MISSING:
            self.added.add(path)
        elif rhs is MISSING:
            self.removed.add(path)
        elif not equal(lhs, rhs):
            self.modified.add(path)
        return _keep_right(path, lhs, rhs)

    def on_node(self, path: Path, lhs: Any, rhs: Any) -> None:
        if lhs is MISSING:
            self.added.add(path)
        elif rhs is MISSING:
            self.removed.add(path)


def compare(schema: Schema, ref: TypeRef, old: Any, new: Any) -> Comparison:
    """The paths added, modified and removed going from ``old`` to ``new``."""
    result = Comparison()
    PairWalk(schema, result.on_leaf, result.on_node).node(ref, old, new, ())
    return result
