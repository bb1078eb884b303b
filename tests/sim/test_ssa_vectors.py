"""Replays every structured-merge-diff vector in tests/data/ssa-vectors through the field manager.

Each step is checked for: the result (ok or conflict), the conflicts as a set of (manager,
operation, field), the stored object, the managed fields as path sets per (manager, operation)
with their apiVersion, and objectChanged. Keyed lists are compared in order (the vectors' order
rules are the library's). The replay runs twice: with the vectors' own schema.yaml, and with the
built-in schema of the sim (which must agree with it on every field the vectors use). A last
test walks schema.yaml field by field and checks the built-in schema declares each field with the
same merge semantics (list relationship and keys, atomic maps, key defaults).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.sim import ssa
from reconciler.sim.ssa import fieldpaths
from reconciler.sim.ssa.schemas import TypeRef

VECTORS = Path(__file__).resolve().parents[1] / "data" / "ssa-vectors"
NOW = "2026-01-01T00:00:00Z"


def _vector_files() -> list[Path]:
    if not VECTORS.is_dir():
        raise RuntimeError(f"SSA vectors not found at {VECTORS}: the vectors are test data of this repository")
    files = sorted(VECTORS.glob("*.json"))
    if not files:
        raise RuntimeError(f"no SSA vectors in {VECTORS}")
    return files


VECTOR_FILES = _vector_files()


@pytest.fixture(scope="module")
def vector_schema() -> ssa.Schema:
    return ssa.load_schema(VECTORS / "schema.yaml")


def _manager_for(schema: ssa.Schema, vector: dict[str, Any], *, builtin: bool) -> ssa.FieldManager:
    if builtin:
        return ssa.FieldManager(schema)
    kinds = schema.kinds
    for step in vector["steps"]:
        kinds[(step["object"]["apiVersion"], step["object"]["kind"])] = vector["schemaType"]
    return ssa.FieldManager(schema)


def _run_step(manager: ssa.FieldManager, live: dict[str, Any] | None, step: dict[str, Any]) -> ssa.Outcome:
    if step["op"] == "apply":
        return manager.apply(live, step["object"], manager=step["manager"], force=step["force"], now=NOW)
    return manager.update(live, step["object"], manager=step["manager"], now=NOW)


def _managed(obj: dict[str, Any] | None) -> dict[tuple[str, str], tuple[str, frozenset[tuple[str, ...]]]]:
    entries = ((obj or {}).get("metadata") or {}).get("managedFields") or []
    return _by_owner(entries)


def _by_owner(entries: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[str, frozenset[tuple[str, ...]]]]:
    return {
        (e["manager"], e["operation"]): (e["apiVersion"], fieldpaths.decode(e["fieldsV1"])) for e in entries
    }


def _without_managed(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return {**obj, "metadata": meta}


def _replay(manager: ssa.FieldManager, vector: dict[str, Any]) -> None:
    live: dict[str, Any] | None = None
    for number, step in enumerate(vector["steps"], start=1):
        expected = step["expected"]
        where = f"step {number} ({step['op']} by {step['manager']})"
        if expected["result"] == "conflict":
            with pytest.raises(ssa.ApplyConflict) as caught:
                _run_step(manager, live, step)
            got = {(c.manager, c.operation, c.field) for c in caught.value.causes}
            want = {(c["manager"], c["operation"], c["field"]) for c in expected["conflicts"]}
            assert got == want, where
        else:
            outcome = _run_step(manager, live, step)
            assert outcome.content_changed == expected["objectChanged"], where
            live = outcome.object
        assert live is not None
        assert _without_managed(live) == expected["object"], where
        assert _managed(live) == _by_owner(expected["managedFields"]), where


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_vector_with_its_schema(path: Path, vector_schema: ssa.Schema) -> None:
    vector = json.loads(path.read_text(encoding="utf-8"))
    _replay(_manager_for(vector_schema.copy(), vector, builtin=False), vector)


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_vector_with_builtin_schema(path: Path) -> None:
    vector = json.loads(path.read_text(encoding="utf-8"))
    _replay(_manager_for(ssa.builtin_schema(), vector, builtin=True), vector)


def _semantics(schema: ssa.Schema, ref: TypeRef) -> tuple[Any, ...]:
    """What decides merging at one node: atomic or not, list relationship and keys; scalars alike."""
    atom = schema.resolve(ref)
    if atom.list is not None and (atom.map is None or atom.scalar is None):
        return ("list", atom.list.relationship, atom.list.keys)
    if atom.map is not None and atom.scalar is None:
        return ("map", atom.map.atomic)
    return ("scalar",)


def _disagreements(
    vector: ssa.Schema, builtin: ssa.Schema, pair: tuple[TypeRef, TypeRef], path: str
) -> list[str]:
    """Every field of the vector schema below ``pair`` whose semantics the built-in schema does not share."""
    left, right = pair
    if _semantics(vector, left) != _semantics(builtin, right):
        return [f"{path}: {_semantics(vector, left)} != {_semantics(builtin, right)}"]
    left_atom, right_atom = vector.resolve(left), builtin.resolve(right)
    if left_atom.list is not None and right_atom.list is not None and left_atom.scalar is None:
        return _disagreements(vector, builtin, (left_atom.list.element, right_atom.list.element), f"{path}[]")
    if left_atom.map is None or right_atom.map is None or left_atom.scalar is not None:
        return []
    found: list[str] = []
    for name, declared in left_atom.map.fields.items():
        other = right_atom.map.fields.get(name)
        if other is None:
            found.append(f"{path}.{name}: not declared")
        elif declared.default != other.default:
            found.append(f"{path}.{name}: default {declared.default!r} != {other.default!r}")
        else:
            found.extend(_disagreements(vector, builtin, (declared.type, other.type), f"{path}.{name}"))
    if left_atom.map.element is not None and right_atom.map.element is not None:
        found.extend(
            _disagreements(vector, builtin, (left_atom.map.element, right_atom.map.element), f"{path}.*")
        )
    return found


ROOTS = [
    ("apps/v1", "Deployment", "io.k8s.api.apps.v1.Deployment"),
    ("v1", "Service", "io.k8s.api.core.v1.Service"),
    ("v1", "ConfigMap", "io.k8s.api.core.v1.ConfigMap"),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
    ),
]


@pytest.mark.parametrize(("api_version", "kind", "type_name"), ROOTS, ids=[r[1] for r in ROOTS])
def test_builtin_schema_agrees_with_the_vector_schema(
    api_version: str, kind: str, type_name: str, vector_schema: ssa.Schema
) -> None:
    builtin = ssa.builtin_schema()
    builtin_ref = builtin.root(builtin.type_name(api_version, kind))
    assert _disagreements(vector_schema, builtin, (TypeRef(named=type_name), builtin_ref), kind) == []
