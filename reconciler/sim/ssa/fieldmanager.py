"""The field manager: server-side apply and update on whole objects, with ``managedFields``.

It wraps the value-level updater the way kube-apiserver's field manager wraps
structured-merge-diff: ``managedFields`` is taken off the object and decoded into owners' field
sets before the merge and encoded back after it; ``apiVersion``, ``kind``, ``metadata.name`` /
``namespace`` and server-set metadata are never recorded; an owner left with nothing loses its
entry; the acting owner's ``time`` moves only when it took or changed something; after an update
at most ten Update entries remain (the oldest merge into ``ancient-changes``).

Defaulting: kube-apiserver defaults an applied object *after* the merge (so defaulted fields are
owned by nobody) and an updated object *before* the update (so a create by Update owns them).
Pass ``defaults`` to the ``FieldManager`` to get exactly that; without it the caller must do the
same around ``apply`` and ``update``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.core.jsonvalues import clone
from reconciler.sim.ssa import ownership, shapes, updaters
from reconciler.sim.ssa.conflicts import ApplyConflict, causes_of
from reconciler.sim.ssa.fieldpaths import EMPTY
from reconciler.sim.ssa.merge import Comparison
from reconciler.sim.ssa.ownership import APPLY, STRIPPED, UPDATE, Entry, Managed, Owner
from reconciler.sim.ssa.schemas import Schema
from reconciler.sim.ssa.values import equal, without_nulls

Obj = dict[str, Any]
Defaulter = Callable[[Obj], Obj]

SERVER_SET = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)
"""Metadata the server owns: carried over from the live object, never taken from a request."""


@dataclass(frozen=True)
class Outcome:
    """The stored object after a request, and whether anything changed.

    ``changed`` counts managedFields too (times apart); ``content_changed`` looks only at the
    object without its managedFields (the ``objectChanged`` of the SSA vectors).
    """

    object: Obj
    changed: bool
    content_changed: bool = True


class FieldManager:
    """Server-side apply and update for the objects of one schema."""

    def __init__(self, schema: Schema, *, defaults: Defaulter | None = None) -> None:
        self.schema = schema
        self.defaults = defaults

    def type_name(self, api_version: str, kind: str) -> str | None:
        """The schema type of a kind, or ``None`` when it is deduced (no schema)."""
        return self.schema.type_name(api_version, kind)

    def apply(
        self, live: Obj | None, config: Obj, *, manager: str, force: bool, now: str, subresource: str = ""
    ) -> Outcome:
        """Apply ``config`` as ``manager``; raises ``ApplyConflict`` (changing nothing) on conflicts.

        ``subresource="status"`` applies only the configuration's ``status``; on the main resource
        of a kind with a status subresource, the configuration's ``status`` is ignored.
        """
        with shapes.depth_guard():
            return self._apply(live, config, manager=manager, force=force, now=now, subresource=subresource)

    def _apply(
        self, live: Obj | None, config: Obj, *, manager: str, force: bool, now: str, subresource: str
    ) -> Outcome:
        api_version = str(config.get("apiVersion", ""))
        actor = Owner.of(manager=manager, operation=APPLY, api_version=api_version, subresource=subresource)
        typed, managed = self._typed(config), _managed_of(live)
        body = self._scoped_config(_without_server_meta(_body(config)), subresource)
        sets = {owner: entry.fields for owner, entry in managed.items()}
        try:
            merged, sets, comparison = updaters.apply(
                typed, _body_or_base(live, config), body, sets=sets, actor=actor, force=force
            )
        except updaters.Conflicts as conflicts:
            raise ApplyConflict(causes_of(conflicts.by_owner, managed)) from None
        result = _carry_server_meta(live, without_nulls(merged))
        if self.defaults is not None:
            result = self.defaults(result)
        return _outcome(
            live,
            result,
            _entries(
                managed, sets, actor=actor, api_version=api_version, now=now, touched=not comparison.is_same()
            ),
        )

    def update(self, live: Obj | None, new: Obj, *, manager: str, now: str, subresource: str = "") -> Outcome:
        """Replace (or create) the object with ``new`` as ``manager``; never conflicts.

        ``subresource="status"`` takes only ``status`` from ``new``; on the main resource of a kind
        with a status subresource, the live ``status`` is kept.
        """
        with shapes.depth_guard():
            return self._update(live, new, manager=manager, now=now, subresource=subresource)

    def _update(self, live: Obj | None, new: Obj, *, manager: str, now: str, subresource: str) -> Outcome:
        api_version = str(new.get("apiVersion", ""))
        actor = Owner.of(manager=manager, operation=UPDATE, api_version=api_version, subresource=subresource)
        typed, managed = self._typed(new), _managed_of(live)
        body = _carry_server_meta(live, without_nulls(self._scoped_update(live, _body(new), subresource)))
        if self.defaults is not None:
            body = self.defaults(body)
        sets = {owner: entry.fields for owner, entry in managed.items()}
        sets, comparison = updaters.update(typed, _body_or_base(live, new), body, sets=sets, actor=actor)
        touched = bool(_contribution(comparison))
        entries = _entries(managed, sets, actor=actor, api_version=api_version, now=now, touched=touched)
        return _outcome(live, body, ownership.cap_updates(entries))

    def _has_status(self, obj: Obj) -> bool:
        return (
            self.type_name(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
            in self.schema.with_status
        )

    def _scoped_config(self, config: Obj, subresource: str) -> Obj:
        """The part of an applied configuration the endpoint writes."""
        if subresource == "status":
            return {**_identity(config), **({"status": config["status"]} if "status" in config else {})}
        if self._has_status(config):
            return {k: v for k, v in config.items() if k != "status"}
        return config

    def _scoped_update(self, live: Obj | None, new: Obj, subresource: str) -> Obj:
        """The object an update writes: live but for ``status``, or ``new`` but for ``status``."""
        if subresource == "status":
            return {**_body_or_base(live, new), "status": new.get("status")}
        if not self._has_status(new):
            return new
        kept = {k: v for k, v in new.items() if k != "status"}
        if live is not None and "status" in live:
            kept["status"] = live["status"]
        return kept

    def _typed(self, obj: Obj) -> updaters.Typed:
        name = self.type_name(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        return updaters.Typed(self.schema, self.schema.root(name))


def _contribution(comparison: Comparison) -> frozenset[tuple[str, ...]]:
    return comparison.changed() - comparison.removed - STRIPPED


def _managed_of(live: Obj | None) -> Managed:
    if live is None:
        return {}
    return ownership.decode((live.get("metadata") or {}).get("managedFields"))


def _body(obj: Obj) -> Obj:
    """``obj`` without ``metadata.managedFields`` (a shallow copy; nothing is mutated)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": meta}


def _without_server_meta(obj: Obj) -> Obj:
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_SET}
    return {**obj, "metadata": meta}


def _body_or_base(live: Obj | None, request: Obj) -> Obj:
    """The live object without managedFields, or for a create the bare identity of the request."""
    if live is not None:
        return _body(live)
    return _identity(request)


def _identity(obj: Obj) -> Obj:
    """``apiVersion``, ``kind`` and ``metadata.name``/``namespace`` of ``obj``."""
    meta = obj.get("metadata") or {}
    identity = {k: meta[k] for k in ("name", "namespace") if k in meta}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": identity}


def _carry_server_meta(live: Obj | None, obj: Obj) -> Obj:
    old = (live or {}).get("metadata") or {}
    meta = {
        k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_SET and k != "managedFields"
    }
    meta.update({k: old[k] for k in SERVER_SET if k in old})
    return {**obj, "metadata": meta}


def _entries(
    managed: Managed, sets: updaters.Sets, *, actor: Owner, api_version: str, now: str, touched: bool
) -> Managed:
    """Entries for the owners' new sets; the actor's is stripped, re-versioned and re-timed."""
    entries: Managed = {}
    for owner, paths in sets.items():
        if owner != actor:
            entries[owner] = Entry(
                fields=paths, api_version=managed[owner].api_version, time=managed[owner].time
            )
    mine = sets.get(actor, EMPTY) - STRIPPED
    if mine:
        before = managed.get(actor)
        fresh = touched or before is None or before.fields != mine
        time = now if fresh or before is None else before.time
        entries[actor] = Entry(fields=mine, api_version=api_version, time=time)
    return entries


def _outcome(live: Obj | None, result: Obj, entries: Managed) -> Outcome:
    encoded = ownership.encode(entries)
    meta = {k: v for k, v in result["metadata"].items() if k != "managedFields"}
    if encoded:
        meta["managedFields"] = encoded
    stored = clone({**result, "metadata": meta})
    if live is None:
        return Outcome(object=stored, changed=True, content_changed=True)
    content_changed = not equal(_body(live), _body(stored))
    fields_changed = not ownership.same_fields(_managed_of(live), entries)
    return Outcome(object=stored, changed=content_changed or fields_changed, content_changed=content_changed)
