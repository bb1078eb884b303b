"""Types for custom resources, from a CustomResourceDefinition's ``openAPIV3Schema``.

The OpenAPI extensions decide the merge semantics, as kube-apiserver's schema conversion does:
``x-kubernetes-list-type`` (``atomic`` by default, ``set``, ``map`` with
``x-kubernetes-list-map-keys``), ``x-kubernetes-map-type: atomic``, ``x-kubernetes-int-or-string``
(an atomic scalar) and ``x-kubernetes-preserve-unknown-fields`` (deduced below that point).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.sim.ssa.schemas import (
    ATOMIC_REF,
    DEDUCED_REF,
    Atom,
    Field,
    ListShape,
    MapShape,
    Schema,
    TypeRef,
)

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_SCALARS = {"string": "string", "integer": "numeric", "number": "numeric", "boolean": "boolean"}


def register(schema: Schema, crd: Mapping[str, Any]) -> list[str]:
    """Add one type per version of ``crd`` to ``schema``; returns the type names."""
    spec = crd.get("spec") or {}
    group, kind = str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))
    names: list[str] = []
    for version in spec.get("versions") or ():
        name = type_name(group, str(version.get("name", "")), kind)
        props = ((version.get("schema") or {}).get("openAPIV3Schema")) or {}
        schema.types[name] = _root(schema, props)
        schema.kinds[(f"{group}/{version.get('name')}", kind)] = name
        if "status" in (version.get("subresources") or {}):
            schema.with_status.add(name)
        names.append(name)
    return names


def type_name(group: str, version: str, kind: str) -> str:
    """``com.example.v1.Widget`` for ``Widget`` in ``example.com/v1`` (reversed group, as OpenAPI names go)."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _root(schema: Schema, props: Mapping[str, Any]) -> Atom:
    atom = _atom(props) if props.get("properties") else None
    fields = dict(atom.map.fields) if atom is not None and atom.map is not None else {}
    fields.update(_identity_fields(schema))
    element = atom.map.element if atom is not None and atom.map is not None else DEDUCED_REF
    return Atom(map=MapShape(fields=fields, element=element))


def _identity_fields(schema: Schema) -> dict[str, Field]:
    meta = TypeRef(named=OBJECT_META) if OBJECT_META in schema.types else DEDUCED_REF
    string = TypeRef(inline=Atom(scalar="string"))
    return {
        "apiVersion": Field(name="apiVersion", type=string),
        "kind": Field(name="kind", type=string),
        "metadata": Field(name="metadata", type=meta),
    }


def ref_of(props: Any) -> TypeRef:
    """The type reference for one JSON schema node."""
    if not isinstance(props, Mapping) or not props:
        return DEDUCED_REF
    if props.get("x-kubernetes-int-or-string"):
        return ATOMIC_REF
    kind = props.get("type")
    if kind in _SCALARS:
        return TypeRef(inline=Atom(scalar=_SCALARS[kind]))
    if kind in ("object", "array") or "properties" in props or "items" in props:
        return TypeRef(inline=_atom(props))
    return DEDUCED_REF


def _atom(props: Mapping[str, Any]) -> Atom:
    if props.get("type") == "array" or "items" in props:
        return Atom(list=_list(props))
    return Atom(map=_map(props))


def _map(props: Mapping[str, Any]) -> MapShape:
    fields = {
        name: Field(name=name, type=ref_of(child)) for name, child in (props.get("properties") or {}).items()
    }
    extra = props.get("additionalProperties")
    element: TypeRef | None = None
    if isinstance(extra, Mapping):
        element = ref_of(extra)
    elif extra is True or props.get("x-kubernetes-preserve-unknown-fields") or not fields:
        element = DEDUCED_REF
    return MapShape(fields=fields, element=element, atomic=props.get("x-kubernetes-map-type") == "atomic")


def _list(props: Mapping[str, Any]) -> ListShape:
    items = props.get("items") if isinstance(props.get("items"), Mapping) else {}
    element = _with_key_defaults(ref_of(items), items) if items else DEDUCED_REF
    list_type = props.get("x-kubernetes-list-type") or "atomic"
    if list_type == "map":
        return ListShape(
            element=element,
            relationship="associative",
            keys=tuple(props.get("x-kubernetes-list-map-keys") or ()),
        )
    if list_type == "set":
        return ListShape(element=element, relationship="associative")
    return ListShape(element=element)


def _with_key_defaults(ref: TypeRef, items: Mapping[str, Any]) -> TypeRef:
    """Carry each property's ``default`` onto its field, so keyed items may omit defaulted keys."""
    if ref.inline is None or ref.inline.map is None:
        return ref
    shape = ref.inline.map
    properties = items.get("properties") or {}
    fields = {
        name: Field(name=name, type=f.type, default=(properties.get(name) or {}).get("default"))
        for name, f in shape.fields.items()
    }
    return TypeRef(inline=Atom(map=MapShape(fields=fields, element=shape.element, atomic=shape.atomic)))
