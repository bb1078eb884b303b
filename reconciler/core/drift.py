"""Drift: live objects compared with what stackfleet last applied, as data. Pure: no I/O, no clock.

The engine records the desired objects it applied (``seal``ed: Secret values and sensitive
annotations replaced by hash markers) and later hands them back with what it observed::

    report = drift.scan(applied=[drift.Applied(dest, bundle_id, sealed_obj, self_heal=False)],
                        live={"eu-1": live_cluster}, first_seen={entry_key: "2026-..."}, now="2026-...")

The comparison is the planner's (``diff.compare``): only fields the applied object declares and fields
our field manager still owns count, after normalisation, so server defaults and fields of other
managers are never drift. An applied object that is gone from a reachable cluster is ``missing``;
an unreachable cluster is listed, never reported as drift.

Each ``Entry`` carries the JSON patch (live -> applied) and the readable diff, both masked, one
``FieldChange`` per patched path naming who owns it now (manager and operation from
``managedFields``, read with ``fieldsets``), when it was first seen (passed in, kept by the store) and
whether the bundle's policy wants it healed (``to_heal``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import jsonpointer

from reconciler.core import diff, fieldsets, inventory, masks, normalize
from reconciler.core.desired import BundleId, IgnoreRule
from reconciler.core.live import LiveCluster
from reconciler.core.objects import FIELD_MANAGER, Obj, ObjectKey

UNKNOWN = "unknown"
VALUE_WIDTH = 80


class Kind(StrEnum):
    """The closed set of drift a scan reports."""

    MODIFIED = "modified"
    MISSING = "missing"


class Policy(StrEnum):
    """What to do about a bundle's drift: report it (the default) or re-apply our fields."""

    REPORT = "report"
    SELF_HEAL = "selfHeal"


EntryKey = tuple[str, BundleId, ObjectKey]
"""(destination cluster, bundle, object): what a drift entry is about; the store's upsert key."""


@dataclass(frozen=True)
class Applied:
    """One object as stackfleet last applied it (sealed), with its bundle's drift policy."""

    dest: str
    bundle: BundleId
    object: Obj
    self_heal: bool = False
    ignore: tuple[IgnoreRule, ...] = ()

    @property
    def key(self) -> ObjectKey:
        return ObjectKey.of(self.object)


@dataclass(frozen=True)
class Manager:
    """A ``managedFields`` entry: who wrote, how (``Apply``/``Update``) and when."""

    name: str
    operation: str = ""
    time: str = ""

    def __str__(self) -> str:
        how = f" ({self.operation})" if self.operation else ""
        return f"{self.name}{how}"

    def to_dict(self) -> dict[str, str]:
        return {"manager": self.name, "operation": self.operation, "time": self.time}


NOBODY = Manager(UNKNOWN)


@dataclass(frozen=True)
class Who:
    """Who changed a drifted object, as the store keeps it: the first known manager of its fields."""

    manager: str = ""
    operation: str = ""
    time: datetime | None = None


@dataclass(frozen=True)
class FieldChange:
    """One patched path: the live and applied values (masked) and who owns the live field now."""

    path: str
    op: str
    live: Any
    applied: Any
    manager: Manager

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "op": self.op,
            "live": self.live,
            "applied": self.applied,
            **self.manager.to_dict(),
        }


@dataclass(frozen=True)
class Entry:
    """One drifted object (see the module docstring)."""

    dest: str
    bundle: BundleId
    key: ObjectKey
    kind: Kind
    patch: tuple[dict[str, Any], ...]
    diff: str
    fields: tuple[FieldChange, ...]
    first_seen: str
    last_seen: str
    policy: Policy = Policy.REPORT

    @property
    def id(self) -> EntryKey:
        return (self.dest, self.bundle, self.key)

    @property
    def managers(self) -> tuple[Manager, ...]:
        """Who changed it: the distinct owners of the changed fields, in field order."""
        return tuple(dict.fromkeys(f.manager for f in self.fields))

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.dest,
            "bundle": inventory.bundle_to_dict(self.bundle),
            "object": {**inventory.key_to_dict(self.key), "id": str(self.key)},
            "kind": self.kind.value,
            "policy": self.policy.value,
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "changedBy": [m.to_dict() for m in self.managers],
            "fields": [f.to_dict() for f in self.fields],
            "patch": list(self.patch),
            "diff": self.diff,
        }


@dataclass(frozen=True)
class Report:
    """A drift scan: the drifted entries, how many objects were checked, clusters not read."""

    scanned_at: str
    entries: tuple[Entry, ...] = ()
    checked: int = 0
    unreachable: Mapping[str, str] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return bool(self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scannedAt": self.scanned_at,
            "drifted": self.drifted,
            "checked": self.checked,
            "counts": counts(self.entries),
            "unreachable": dict(sorted(self.unreachable.items())),
            "entries": [e.to_dict() for e in self.entries],
        }


def counts(entries: Iterable[Entry]) -> dict[str, int]:
    found = [e.kind.value for e in entries]
    return {k.value: found.count(k.value) for k in Kind}


def seal(obj: Obj) -> Obj:
    """``obj`` as it may be stored: Secret ``stringData`` folded into ``data``, values and sensitive
    annotations replaced by hash markers (``masks.marker``), so equal values still compare equal."""
    return masks.mask(normalize.secret_data(obj) if masks.is_secret(obj) else obj)


def to_heal(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """The entries whose bundle asks for self-heal (the engine re-applies their objects)."""
    return tuple(e for e in entries if e.policy is Policy.SELF_HEAL)


def scan(
    *,
    applied: Sequence[Applied],
    live: Mapping[str, LiveCluster],
    first_seen: Mapping[EntryKey, str],
    now: str,
) -> Report:
    """Compare every applied object with its live counterpart (see the module docstring)."""
    unreachable = {name: _why(c) for name, c in live.items() if not c.is_reachable}
    unobserved = {a.dest: "not observed" for a in applied if a.dest not in live}
    checkable = [a for a in applied if a.dest in live and live[a.dest].is_reachable]
    found = (check(a, live=live[a.dest].get(a.key), first_seen=first_seen, now=now) for a in checkable)
    entries = sorted((e for e in found if e is not None), key=lambda e: (e.dest, e.bundle, e.key))
    return Report(
        scanned_at=now,
        entries=tuple(entries),
        checked=len(checkable),
        unreachable={**unobserved, **unreachable},
    )


def _why(cluster: LiveCluster) -> str:
    return f"{cluster.status.value}: {cluster.reason}" if cluster.reason else cluster.status.value


def check(
    applied: Applied, *, live: Obj | None, first_seen: Mapping[EntryKey, str], now: str
) -> Entry | None:
    """The drift of one applied object against its live state, or ``None`` when there is none."""
    ignore = [p for rule in applied.ignore if rule.applies_to(applied.key) for p in rule.pointers]
    current = seal(live) if live is not None else None
    difference = diff.compare(desired=applied.object, live=current, ignore=ignore)
    if current is not None and not difference.changed:
        return None
    return Entry(
        dest=applied.dest,
        bundle=applied.bundle,
        key=applied.key,
        kind=Kind.MISSING if current is None else Kind.MODIFIED,
        patch=difference.patch,
        diff=difference.text,
        fields=_field_changes(difference, current),
        first_seen=first_seen.get((applied.dest, applied.bundle, applied.key), now),
        last_seen=now,
        policy=Policy.SELF_HEAL if applied.self_heal else Policy.REPORT,
    )


def _field_changes(difference: diff.Difference, live: Obj | None) -> tuple[FieldChange, ...]:
    if live is None:
        return ()
    before = difference.before or {}
    return tuple(_field_change(op, live=live, view=before) for op in difference.patch)


def _field_change(op: Mapping[str, Any], *, live: Obj, view: Obj) -> FieldChange:
    source = str(op.get("from", op["path"]))
    return FieldChange(
        path=str(op["path"]),
        op=str(op["op"]),
        live=_at(view, source) if op["op"] != "add" else None,
        applied=op.get("value"),
        manager=changed_by(live, view=view, pointer=source),
    )


def _at(doc: Any, pointer: str) -> Any:
    try:
        return jsonpointer.resolve_pointer(doc, pointer, None)
    except jsonpointer.JsonPointerException:
        return None


def _parts(pointer: str) -> list[str]:
    return list(jsonpointer.JsonPointer(pointer).parts)


def changed_by(live: Obj, *, view: Obj, pointer: str) -> Manager:
    """Who owns the field at ``pointer`` (a path in the compared ``view`` of ``live``) now.

    Another manager that owns the field wins over us; a field nobody owns any more (removed behind
    our back) is put on the manager that wrote to the object last, other than us.
    """
    steps, complete = _steps(live, view=view, pointer=pointer)
    owners = [m for m, trie in _entries(live) if complete and _covers(trie, steps)]
    others = [m for m in owners if m.name != FIELD_MANAGER]
    if others:
        return others[0]
    latest = _latest_other(live)
    return latest if latest is not None else (owners[0] if owners else NOBODY)


def owners_of(live: Obj, pointer: str) -> tuple[Manager, ...]:
    """Every managed-fields entry of ``live`` that owns the field at ``pointer`` (a path in ``live``)."""
    steps, complete = _steps(live, view=live, pointer=pointer)
    return tuple(m for m, trie in _entries(live) if complete and _covers(trie, steps))


def _entries(live: Obj) -> list[tuple[Manager, fieldsets.FieldSet]]:
    found = (live.get("metadata") or {}).get("managedFields") or []
    return [
        (
            Manager(str(e.get("manager", UNKNOWN)), str(e.get("operation", "")), str(e.get("time", ""))),
            e.get("fieldsV1") or {},
        )
        for e in found
        if isinstance(e, Mapping)
    ]


def _latest_other(live: Obj) -> Manager | None:
    others = [m for m, _ in _entries(live) if m.name != FIELD_MANAGER]
    return max(others, key=lambda m: m.time) if others else None


Step = tuple[str, Any]
"""``("f", name)`` steps into a map field, ``("e", element)`` into a list element (the live one)."""


def _steps(live: Any, *, view: Any, pointer: str) -> tuple[list[Step], bool]:
    steps: list[Step] = []
    for part in _parts(pointer):
        if isinstance(live, Mapping) and part in live:
            steps.append(("f", part))
            live, view = live[part], view.get(part) if isinstance(view, Mapping) else None
        elif isinstance(live, list) and part.isdigit():
            shown = view[int(part)] if isinstance(view, list) and int(part) < len(view) else None
            live = _element(live, shown=shown, index=int(part))
            if live is None:
                return steps, False
            steps.append(("e", live))
            view = shown
        else:
            return steps, False
    return steps, True


def _element(items: list[Any], *, shown: Any, index: int) -> Any:
    """The live list element that the compared view shows at ``index`` (views sort named lists)."""
    if isinstance(shown, Mapping) and "name" in shown:
        return next((i for i in items if isinstance(i, Mapping) and i.get("name") == shown["name"]), None)
    if index < len(items) and _contains(items[index], shown):
        return items[index]
    return next((i for i in items if _contains(i, shown)), None)


def _contains(whole: Any, part: Any) -> bool:
    if isinstance(part, Mapping) and isinstance(whole, Mapping):
        return all(k in whole and _contains(whole[k], v) for k, v in part.items())
    return part is None or normalize.canonical(whole) == part or whole == part


def _covers(trie: fieldsets.FieldSet, steps: list[Step]) -> bool:
    node: fieldsets.FieldSet | None = trie
    for depth, (how, what) in enumerate(steps):
        if node is None:
            return False
        if depth and fieldsets.is_leaf(node):
            return True
        node = fieldsets.fields(node).get(what) if how == "f" else fieldsets.element_for(node, what)
    return node is not None


def short(value: Any, *, width: int = VALUE_WIDTH) -> str:
    """A value on one line for reports: JSON, cut to ``width`` characters."""
    if value is None:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
