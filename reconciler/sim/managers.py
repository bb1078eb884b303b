"""The bridge between the HTTP layer and the server-side apply engine in ``reconciler.sim.ssa``.

``FieldManagers`` wraps one cluster's ``FieldManager`` (its schema learns that cluster's CRDs) and
turns ``ApplyConflict`` into the 409 body kube-apiserver sends. Defaulting happens here too, after
an apply's merge and before an update is recorded, and can be switched off per server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core.objects import Obj
from reconciler.sim import ssa, statuses
from reconciler.sim.resources import ResourceType
from reconciler.sim.ssa import validation


@dataclass(frozen=True)
class Written:
    """The object a write would store and whether it differs from what is stored."""

    object: Obj
    changed: bool


def conflict_message(cause: Any) -> str:
    """``conflict with "mgr"`` for an Apply owner, ``conflict with "mgr" using apps/v1`` for Update."""
    if getattr(cause, "operation", "Apply") == "Apply":
        return f'conflict with "{cause.manager}"'
    return f'conflict with "{cause.manager}" using {cause.api_version}'


def conflict_error(rt: ResourceType, name: str, causes: list[Any], *, text: str) -> statuses.ApiError:
    """The 409 kube-apiserver answers for an apply that conflicts without force."""
    rendered = [
        {"type": "FieldManagerConflict", "message": conflict_message(c), "field": c.field} for c in causes
    ]
    error = statuses.conflict(group=rt.group, plural=rt.plural, name=name, message=text, causes=rendered)
    error.message = text
    return error


class FieldManagers:
    """Server-side apply and update bookkeeping for one cluster (its own copy of the schema)."""

    def __init__(self, *, defaulting: bool, allocate_ip: Callable[[], str]) -> None:
        self.defaulting = defaulting
        self._crds: dict[tuple[str, str], Mapping[str, Any]] = {}
        """(apiVersion, kind) of each served custom resource version: its structural schema."""
        builtin = _defaulter(allocate_ip)
        defaults = (lambda obj: self._custom_defaults(builtin(obj))) if defaulting else None
        self._fm = ssa.FieldManager(ssa.builtin_schema().copy(), defaults=defaults)

    @property
    def schema(self) -> Any:
        return self._fm.schema

    def register_crd(self, crd: Obj) -> None:
        from reconciler.sim import structurals

        ssa.register_crd(self._fm.schema, crd)
        spec = crd.get("spec") or {}
        kind = str((spec.get("names") or {}).get("kind", ""))
        for version in spec.get("versions") or ():
            schema = structurals.version_schema(crd, str(version.get("name", "")))
            if schema is not None:
                self._crds[(f"{spec.get('group', '')}/{version.get('name', '')}", kind)] = schema

    def read_defaults(self, obj: Obj) -> Obj:
        """``obj`` as a read shows it: its CRD's defaults filled in (no pruning; unchanged when
        defaulting is off or ``obj`` is not a custom resource)."""
        from reconciler.sim import structurals

        schema = self._crds.get((str(obj.get("apiVersion", "")), str(obj.get("kind", ""))))
        if schema is None or not self.defaulting:
            return obj
        return structurals.default_and_prune(obj, schema, prune=False)

    def _custom_defaults(self, obj: Obj) -> Obj:
        """CRD structural defaulting and pruning (``reconciler.sim.structurals``) for custom resources."""
        from reconciler.sim import structurals

        schema = self._crds.get((str(obj.get("apiVersion", "")), str(obj.get("kind", ""))))
        return structurals.default_and_prune(obj, schema) if schema is not None else obj

    def type_name(self, api_version: str, kind: str) -> str | None:
        return self._fm.type_name(api_version, kind)

    def unknown_fields(self, obj: Obj) -> list[str]:
        type_name = self._fm.type_name(obj.get("apiVersion", ""), obj.get("kind", ""))
        if type_name is None:
            return []
        return validation.unknown_in(self._fm.schema, obj, type_name)

    def apply(self, rt: ResourceType, live: Obj | None, config: Obj, **how: Any) -> Written:
        try:
            outcome = self._fm.apply(live, config, manager=how["manager"], force=how["force"], now=how["now"],
                                     subresource=how.get("subresource", ""))
        except ssa.ApplyConflict as exc:
            raise conflict_error(rt, str(config["metadata"]["name"]), list(exc.causes), text=str(exc)) from exc
        except ssa.InvalidObject as exc:
            raise statuses.ApiError(422, "Invalid", str(exc)) from exc
        return Written(outcome.object, outcome.changed)

    def update(self, live: Obj | None, new: Obj, *, manager: str, now: str, subresource: str = "") -> Written:
        try:
            outcome = self._fm.update(live, new, manager=manager, now=now, subresource=subresource)
        except ssa.InvalidObject as exc:
            raise statuses.ApiError(422, "Invalid", str(exc)) from exc
        return Written(outcome.object, outcome.changed)


def _defaulter(allocate_ip: Callable[[], str]) -> Callable[[Obj], Obj]:
    """kube-apiserver's defaulting (``reconciler.sim.defaults``); the engine calls it at the right moment."""
    from reconciler.sim import defaults

    return lambda obj: defaults.apply_defaults(obj, allocate_cluster_ip=allocate_ip)


def make(*, defaulting: bool, allocate_ip: Callable[[], str]) -> FieldManagers:
    """The field managers of one cluster (``defaulting=False`` stores objects as the managers leave them)."""
    return FieldManagers(defaulting=defaulting, allocate_ip=allocate_ip)
