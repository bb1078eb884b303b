"""Type schemas in structured-merge-diff's own format, and the built-in one the sim serves.

A schema is a list of named types; each is a scalar, a list or a map (a struct is a map with
fields). Lists are ``atomic`` (owned and replaced whole), ``associative`` with ``keys`` (merged
per item by key) or ``associative`` without keys (a set of scalars). Maps are granular unless
``elementRelationship: atomic``. A key field may carry a ``default``, used to build the key of an
item that omits it (``protocol: TCP`` of container and service ports).

Two types always exist: ``__untyped_atomic_`` (any value, owned whole) and ``__untyped_deduced_``
(maps granular, lists atomic), the fallback for kinds without a schema (custom resources).

Besides ``types``, a schema file may carry ``kinds``: ``{apiVersion, kind, type}`` rows naming the
type of each served kind, with ``statusSubresource: true`` when it is served with a status
subresource (its main resource then ignores ``status``, as kube-apiserver's reset fields do).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEDUCED = "__untyped_deduced_"
ATOMIC = "__untyped_atomic_"
BUILTIN_PATH = Path(__file__).with_name("builtin.yaml")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class TypeRef:
    """A reference to a type: by name, or an inline atom; ``relationship`` overrides atomicity."""

    named: str | None = None
    inline: Atom | None = None
    relationship: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    type: TypeRef
    default: Any = None


@dataclass(frozen=True, eq=False)
class MapShape:
    fields: dict[str, Field]
    element: TypeRef | None = None
    atomic: bool = False


@dataclass(frozen=True)
class ListShape:
    element: TypeRef
    relationship: str = "atomic"
    keys: tuple[str, ...] = ()

    @property
    def atomic(self) -> bool:
        return self.relationship == "atomic"


@dataclass(frozen=True, eq=False)
class Atom:
    scalar: str | None = None
    list: ListShape | None = None
    map: MapShape | None = None


DEDUCED_REF = TypeRef(named=DEDUCED)
ATOMIC_REF = TypeRef(named=ATOMIC)


def _fallback_types() -> dict[str, Atom]:
    return {
        DEDUCED: Atom(
            scalar="untyped",
            list=ListShape(element=DEDUCED_REF, relationship="atomic"),
            map=MapShape(fields={}, element=DEDUCED_REF),
        ),
        ATOMIC: Atom(
            scalar="untyped",
            list=ListShape(element=ATOMIC_REF, relationship="atomic"),
            map=MapShape(fields={}, element=ATOMIC_REF, atomic=True),
        ),
    }


@dataclass
class Schema:
    """Named types plus the (apiVersion, kind) -> type name table."""

    types: dict[str, Atom] = field(default_factory=_fallback_types)
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    with_status: set[str] = field(default_factory=set)
    """Types served with a ``status`` subresource: their main resource ignores ``status``."""

    def resolve(self, ref: TypeRef) -> Atom:
        atom = self.types.get(ref.named, self.types[DEDUCED]) if ref.named else ref.inline
        if atom is None:
            return self.types[DEDUCED]
        if ref.relationship == "atomic":
            return _atomic(atom)
        return atom

    def type_name(self, api_version: str, kind: str) -> str | None:
        return self.kinds.get((api_version, kind))

    def root(self, type_name: str | None) -> TypeRef:
        return TypeRef(named=type_name) if type_name in self.types else DEDUCED_REF

    def copy(self) -> Schema:
        """A copy to register CRDs into without touching the shared original."""
        return Schema(types=dict(self.types), kinds=dict(self.kinds), with_status=set(self.with_status))


def _atomic(atom: Atom) -> Atom:
    list_shape = atom.list and ListShape(element=atom.list.element, relationship="atomic")
    map_shape = atom.map and MapShape(fields=atom.map.fields, element=atom.map.element, atomic=True)
    return Atom(scalar=atom.scalar, list=list_shape, map=map_shape)


def parse_ref(raw: Mapping[str, Any]) -> TypeRef:
    relationship = raw.get("elementRelationship")
    if "namedType" in raw:
        return TypeRef(named=str(raw["namedType"]), relationship=relationship)
    return TypeRef(inline=parse_atom(raw))


def parse_atom(raw: Mapping[str, Any]) -> Atom:
    scalar = raw.get("scalar")
    list_shape = _parse_list(raw["list"]) if "list" in raw else None
    map_shape = _parse_map(raw["map"]) if "map" in raw else None
    return Atom(scalar=str(scalar) if scalar else None, list=list_shape, map=map_shape)


def _parse_list(raw: Mapping[str, Any]) -> ListShape:
    return ListShape(
        element=parse_ref(raw.get("elementType") or {"namedType": DEDUCED}),
        relationship=str(raw.get("elementRelationship") or "atomic"),
        keys=tuple(raw.get("keys") or ()),
    )


def _parse_map(raw: Mapping[str, Any]) -> MapShape:
    fields = {
        str(item["name"]): Field(
            name=str(item["name"]), type=parse_ref(item["type"]), default=item.get("default")
        )
        for item in raw.get("fields") or ()
    }
    element = parse_ref(raw["elementType"]) if raw.get("elementType") else None
    return MapShape(fields=fields, element=element, atomic=raw.get("elementRelationship") == "atomic")


def load_schema(source: Path | str | Mapping[str, Any]) -> Schema:
    """A schema from a file path, YAML text, or the already parsed document."""
    if isinstance(source, Path):
        document = yaml.load(source.read_text(encoding="utf-8"), Loader=_LOADER)
    elif isinstance(source, str):
        document = yaml.load(source, Loader=_LOADER)
    else:
        document = source
    schema = Schema()
    for raw in document.get("types") or ():
        schema.types[str(raw["name"])] = parse_atom(raw)
    for row in document.get("kinds") or ():
        schema.kinds[(str(row["apiVersion"]), str(row["kind"]))] = str(row["type"])
        if row.get("statusSubresource"):
            schema.with_status.add(str(row["type"]))
    return schema


@functools.lru_cache(maxsize=1)
def _builtin() -> Schema:
    return load_schema(BUILTIN_PATH)


def builtin_schema() -> Schema:
    """The schema of the built-in kinds the sim serves (cached; ``copy()`` it before registering CRDs)."""
    return _builtin()
