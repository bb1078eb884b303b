"""Replays every structured-merge-diff vector in ../shared/ssa-vectors through the field manager.

Each step is checked for: the result (ok or conflict), the conflicts as a set of (manager,
operation, field), the stored object, the managed fields as path sets per (manager, operation)
with their apiVersion, and objectChanged. Keyed lists are compared in order (the vectors' order
rules are the library's). The replay runs twice: with the vectors' own schema.yaml, and with the
built-in schema of the sim (which must agree with it on every field the vectors use).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.sim import ssa
from reconciler.sim.ssa import fieldpaths

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "ssa-vectors"
NOW = "2026-01-01T00:00:00Z"


def _vector_files() -> list[Path]:
    if not VECTORS.is_dir():
        raise RuntimeError(f"SSA vectors not found at {VECTORS}: clone shared/ beside the repo")
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
