"""Server-side apply for the simulated clusters: kube-apiserver's field manager in pure Python.

It behaves like ``sigs.k8s.io/structured-merge-diff`` driven by kube-apiserver: server-side
apply with field ownership (``metadata.managedFields``) and conflicts, ordinary updates that take
ownership of what they change, and the list and map semantics of a type schema. No I/O: the sim's
HTTP server calls it.

Defaulting order (as kube-apiserver): the server defaults an applied object AFTER apply's merge,
so defaulted fields are owned by nobody, and defaults an updated or created object BEFORE
``update``, so a create by Update owns its defaults. ``FieldManager(schema, defaults=...)`` does
both itself when given the defaulting function.

Usage::

    from reconciler.sim import ssa

    manager = ssa.FieldManager(ssa.builtin_schema())
    outcome = manager.apply(live, config, manager="stackfleet", force=False, now="2026-01-01T00:00:00Z")
    outcome.object, outcome.changed      # or ssa.ApplyConflict with .causes

Custom resources: ``schema = ssa.builtin_schema().copy(); ssa.register_crd(schema, crd)``; a kind
without a registered schema is deduced (maps merged per key, lists atomic). ``schemas`` holds the
types only; registering CRDs (``crds``) and checking fields (``validation``) build on it, never the
other way round.
"""

from __future__ import annotations

from reconciler.sim.ssa import validation
from reconciler.sim.ssa.conflicts import ApplyConflict, ConflictCause
from reconciler.sim.ssa.crds import register as register_crd
from reconciler.sim.ssa.fieldmanager import FieldManager, Outcome
from reconciler.sim.ssa.schemas import Schema, builtin_schema, load_schema
from reconciler.sim.ssa.shapes import InvalidObject


def unknown_fields(obj: dict[str, object], type_name: str | None) -> list[str]:
    """Fields of ``obj`` the built-in type ``type_name`` does not declare (``.spec.foo``)."""
    return validation.unknown_in(builtin_schema(), obj, type_name)


__all__ = [
    "ApplyConflict",
    "ConflictCause",
    "FieldManager",
    "InvalidObject",
    "Outcome",
    "Schema",
    "builtin_schema",
    "load_schema",
    "register_crd",
    "unknown_fields",
]
